#!/usr/bin/env python3
"""Turns the figures of bench/load/engine_run.sh into bench/results/latest.md and prints them.

  report.py RESULTS_DIR OUT_MD [NOTES_MD]

RESULTS_DIR holds meta.json (machine, versions, knobs), http_<engine>.jsonl, stream.json and
what else engine_run.sh left there. Each figure is compared with the targets of issue 10; a
missed target is said with the amount it is missed by.
"""
import json
import os
import sys

ENGINES = [("postgres", "PostgreSQL + Redis"), ("sqlite", "SQLite (embedded default)")]
ORDER = ["healthz", "auth", "profile", "chat", "search", "history"]
# name -> (requests/s at least, p99 ms at most, engines the target is for)
TARGETS = {
    "healthz": (45_000, 5, {"postgres", "sqlite"}),
    "auth": (10_000, 15, {"postgres", "sqlite"}),
    "profile": (35_000, 5, {"postgres", "sqlite"}),
    "chat": (4_000, 25, {"postgres"}),
    "search": (7_000, 30, {"postgres", "sqlite"}),
}
RSS_TARGET_MB = 64
STREAM_RSS_TARGET_MB = 512
STREAM_TTFB_P99_TARGET_MS = 2.0


def load_rows(results, engine):
  path = os.path.join(results, f"http_{engine}.jsonl")
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as rows:
    found = {row["name"]: row for row in map(json.loads, filter(None, map(str.strip, rows)))}
  return [found[name] for name in ORDER if name in found]


def read(results, name, default=""):
  path = os.path.join(results, name)
  if not os.path.exists(path):
    return default
  with open(path, encoding="utf-8") as text:
    return text.read().strip()


def ms(micros):
  return micros / 1000.0


def rps(row):
  return row["requests"] / (row["duration_us"] / 1e6) if row.get("duration_us") else 0.0


def short(text, limit=40):
  return text if len(text) <= limit else text[: limit - 1] + "…"


def http_table(results, misses):
  lines = ["| engine | endpoint | requests/s | p50 | p99 | non-2xx | socket errors | server peak RSS | server CPU |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
  for engine, label in ENGINES:
    for row in load_rows(results, engine):
      if "requests" not in row:
        lines.append(f"| {label} | `{row['endpoint']}` | no figures (wrk failed) | | | | | | |")
        continue
      errors = row["connect_errors"] + row["read_errors"] + row["write_errors"] + row["timeouts"]
      rss_mb = row["rss_peak_kb"] / 1024.0
      lines.append(
          f"| {label} | `{row['endpoint']}` | {rps(row):,.0f} | {ms(row['p50_us']):.2f} ms | "
          f"{ms(row['p99_us']):.2f} ms | {row['non2xx']:,} | {errors:,} | {rss_mb:.1f} MB | "
          f"{row['cpu_percent']:.0f} % |")
      target = TARGETS.get(row["name"])
      where = f"{label}, `{row['endpoint']}`"
      if target and engine in target[2]:
        want_rps, want_p99, _ = target
        if rps(row) < want_rps:
          misses.append(f"{where}: {rps(row):,.0f} req/s against ≥ {want_rps:,} "
                        f"(short by {want_rps - rps(row):,.0f}, {100 * (1 - rps(row) / want_rps):.0f} %)")
        if ms(row["p99_us"]) > want_p99:
          misses.append(f"{where}: p99 {ms(row['p99_us']):.2f} ms against ≤ {want_p99} ms "
                        f"(over by {ms(row['p99_us']) - want_p99:.2f} ms, ×{ms(row['p99_us']) / want_p99:.1f})")
      if rss_mb > RSS_TARGET_MB:
        misses.append(f"{where}: server RSS {rss_mb:.1f} MB against ≤ {RSS_TARGET_MB} MB "
                      f"(over by {rss_mb - RSS_TARGET_MB:.1f} MB)")
      if row["non2xx"] or errors:
        misses.append(f"{where}: {row['non2xx']:,} non-2xx answers and {errors:,} socket errors "
                      f"of {row['requests']:,} requests")
  return lines


def stream_section(results, misses):
  path = os.path.join(results, "stream.json")
  if not os.path.exists(path):
    return ["Not run (STREAM_CLIENTS=0, or the stream engine's run failed before it)."]
  with open(path, encoding="utf-8") as text:
    data = json.load(text)
  server, base = data["server"], data["baseline"]
  n = server["clients"]
  per_stream_kb = (data["peak_rss_kb"] - data["idle_rss_kb"]) / n if n else 0
  over_p50 = server["first_token_p50_ms"] - base["first_token_p50_ms"]
  over_p99 = server["first_token_p99_ms"] - base["first_token_p99_ms"]
  peak_mb = data["peak_rss_kb"] / 1024.0
  lines = [
      f"{n:,} concurrent `POST /api/v1/chat` streams (`\"stream\": true`) on {data['engine']}, the fake model "
      f"streaming {data['tokens']} tokens at one per {data['token_interval_ms']} ms. All connections are opened "
      "first, then every request is written at once (bench/sse_load/sse_load_main.cpp).",
      "",
      "| figure | through evolveai serve | straight to the fake model |",
      "|---|---:|---:|",
      f"| streams completed | {server['completed']:,} of {n:,} | {base['completed']:,} of {base['clients']:,} |",
      f"| streams open at once (peak) | {server['streaming_peak']:,} | {base['streaming_peak']:,} |",
      f"| time to first byte p50 / p99 | {server['first_byte_p50_ms']:.2f} / {server['first_byte_p99_ms']:.2f} ms | "
      f"{base['first_byte_p50_ms']:.2f} / {base['first_byte_p99_ms']:.2f} ms |",
      f"| time to first token p50 / p99 | {server['first_token_p50_ms']:.2f} / {server['first_token_p99_ms']:.2f} ms"
      f" | {base['first_token_p50_ms']:.2f} / {base['first_token_p99_ms']:.2f} ms |",
      f"| wall time of the run | {server['wall_s']:.1f} s | {base['wall_s']:.1f} s |",
      "",
      f"- **TTFB overhead** (first token through the server minus first token straight from the fake): "
      f"p50 {over_p50:.2f} ms, p99 {over_p99:.2f} ms.",
      f"- **Server RSS**: idle {data['idle_rss_kb'] / 1024:.1f} MB, peak {peak_mb:.1f} MB; "
      f"per open stream {per_stream_kb:.1f} KB ((peak − idle) / {n:,}).",
      f"- Open-file limit of every process: {data['nofile_limit']:,} (the container's hard limit); "
      f"\"Too many open files\" lines in the server log: {data['server_fd_errors']:,}.",
      f"- `database.acquire_timeout` for this run: {data.get('acquire_timeout', '5s')} (every turn of the burst "
      "waits for the pool before its model call).",
  ]
  requested = data.get("requested", n)
  if requested > n:
    lines.append(f"- **{requested:,} streams were asked for; {n:,} ran**: each stream is two sockets in the server "
                 "(the client's and its model call), and the open-file limit holds no more.")
    misses.append(f"SSE: {n:,} streams run, not {requested:,} (open-file limit {data['nofile_limit']:,})")
  failures = {**{f"server: {k}": v for k, v in server["failures"].items()},
              **{f"fake: {k}": v for k, v in base["failures"].items()}}
  if failures:
    lines.append("- Streams that did not complete, by cause: " +
                 ", ".join(f"{short(k, 60)} × {v:,}" for k, v in failures.items()) + ".")
  if server["completed"] < n:
    misses.append(f"SSE: {server['completed']:,} of {n:,} streams completed (target: all)")
  if peak_mb > STREAM_RSS_TARGET_MB:
    misses.append(f"SSE: peak RSS {peak_mb:.1f} MB against ≤ {STREAM_RSS_TARGET_MB} MB")
  if over_p99 > STREAM_TTFB_P99_TARGET_MS:
    misses.append(f"SSE: TTFB overhead p99 {over_p99:.2f} ms against ≤ {STREAM_TTFB_P99_TARGET_MS:g} ms "
                  f"(over by {over_p99 - STREAM_TTFB_P99_TARGET_MS:.2f} ms)")
  return lines


def main():
  results, out_path = sys.argv[1], sys.argv[2]
  meta = json.loads(read(results, "meta.json", "{}"))
  misses = []
  table = http_table(results, misses)
  stream = stream_section(results, misses)
  seeds = ", ".join(f"{engine} {read(results, f'seed_seconds_{engine}')} s" for engine, _ in ENGINES
                    if read(results, f"seed_seconds_{engine}"))
  doc = [
      "# Benchmark results (`make bench`)",
      "",
      f"Run {meta.get('date', '?')} at commit `{meta.get('commit', '?')}`. Written by bench/http_wrk.sh; "
      "bench/README.md says how to run it and what each figure means.",
      "",
      "## Machine and versions",
      "",
      f"- CPU: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores; RAM {meta.get('ram', '?')}; "
      f"kernel {meta.get('kernel', '?')}. wrk runs on the same machine.",
      f"- evolveai: {meta.get('evolveai', '?')}",
      f"- PostgreSQL {read(results, 'postgres_version', '?')} (throwaway cluster of scripts/with-test-services: "
      f"fsync, synchronous_commit and full_page_writes off), Redis {meta.get('redis', '?')}, {meta.get('wrk', '?')}",
      f"- Load: `wrk -t{meta.get('threads', '?')} -c{meta.get('connections', '?')} -d{meta.get('duration', '?')} "
      f"--latency` per endpoint (Lua scripts in bench/wrk/), one server per engine, server threads = cores, "
      f"roles `api`, log level `{meta.get('log_level', '?')}`.",
      f"- Data: {meta.get('users', '?')} users and {meta.get('messages', '?')} messages of English and Russian text "
      f"(bench/load/seed.py; seeding took {seeds or '?'}). Requests rotate over all users; search asks for words "
      "found in 1–10 % of the messages.",
      "- Model: the fake Gemini of `evolveai-fake-services` (instant for `/api/v1/chat`).",
      "",
      "## Limits raised for the benchmark",
      "",
      "`EVOLVEAI_LIMITS__FREE_DAILY_MESSAGES=1000000` (users stay on the free plan, so the quota is still checked "
      "and counted), `EVOLVEAI_RATE_LIMITS__AUTH_PER_MIN`, `__CHAT_PER_MIN` and `__API_PER_MIN` = 1000000 (the limiters "
      "still run on every request), and for the streams `EVOLVEAI_SERVER__MAX_CONNECTIONS` = clients + 1000.",
      "",
      "## HTTP endpoints",
      "",
      *table,
      "",
      "Server peak RSS is the largest resident set sampled every 100 ms during that endpoint's run; server CPU is "
      "its CPU time over the run's wall time (100 % = one core).",
      *[f"Peak RSS of the whole {label} run, from the kernel (VmHWM, catches what sampling misses): "
        f"{int(read(results, f'rss_hwm_kb_{engine}')) / 1024:.1f} MB." for engine, label in ENGINES
        if read(results, f"rss_hwm_kb_{engine}")],
      "",
      "## Server-sent-event streams",
      "",
      *stream,
      "",
      "## Targets missed",
      "",
      *([f"- {miss}" for miss in misses] or ["None."]),
  ]
  if len(sys.argv) > 3 and sys.argv[3]:
    with open(sys.argv[3], encoding="utf-8") as notes:
      doc += ["", f"## What is in the way (hand-written, {sys.argv[3]})", "", notes.read().strip()]
  text = "\n".join(doc) + "\n"
  os.makedirs(os.path.dirname(out_path), exist_ok=True)
  with open(out_path, "w", encoding="utf-8") as out:
    out.write(text)
  print(text)


if __name__ == "__main__":
  main()
