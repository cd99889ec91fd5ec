#!/usr/bin/env python3
"""Seeds a benchmark database and signs users in.

  seed.py sqlite DB_PATH          1,000 users and 200,000 messages into a migrated SQLite file
  seed.py postgres DATABASE_URL   the same rows into a migrated PostgreSQL database (psql COPY)
  seed.py auth BASE_URL BOT_TOKEN OUT_DIR
                                  signs every seeded user in through POST /api/v1/auth and writes
                                  OUT_DIR/tokens.txt (one access token a line) and
                                  OUT_DIR/auth_bodies.txt (one signed sign-in body a line)

Knobs: SEED_USERS (1000), SEED_MESSAGES (200000). The text is English and Russian sentences from
a fixed vocabulary with a fixed random seed; a few topic words appear in a known share of the
messages (see TOPICS) so that GET /api/v1/search has real matches to find and rank.
"""
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
import urllib.parse

TELEGRAM_ID_BASE = 7_000_000
# Topic words and the share of messages that carry each one (searched by bench/wrk/search.lua).
TOPICS = [("jazz", 0.02), ("coffee", 0.05), ("weekend", 0.10), ("travel", 0.04), ("remember", 0.01),
          ("музыка", 0.05), ("погода", 0.03), ("кофе", 0.02), ("работа", 0.08)]
EN_WORDS = """i you we they it this that my your our today yesterday tomorrow really maybe think know want
like love hate need feel see hear tell ask say talk walk read write play work sleep eat drink cook buy sell
go come stay leave start finish try help learn teach watch listen open close good bad new old big small long
short happy sad tired busy free early late always never often sometimes again still just very quite about
friend family mother father sister brother child dog cat house home city street park river sea mountain
book movie song game film picture letter story question answer idea plan problem reason time day night week
month year morning evening hour minute money job office school lesson class teacher student doctor car bus
train plane ticket hotel room kitchen garden window door table chair phone computer email message news
weather rain snow sun wind cold warm hot dinner lunch breakfast tea bread cheese apple soup pizza birthday
holiday party gift present future past dream hope fear luck health body head heart hand eye voice name
because but and or so if when while after before during with without for from into over under between""".split()
RU_WORDS = """я ты мы они он она это тот мой твой наш сегодня вчера завтра правда может думаю знаю хочу люблю
нужно чувствую вижу слышу скажи спроси говорить гулять читать писать играть спать есть пить готовить купить
идти прийти остаться начать закончить помочь учить смотреть слушать открыть хороший плохой новый старый
большой маленький счастливый грустный усталый занятой свободный рано поздно всегда никогда часто иногда
снова ещё очень друг семья мама папа сестра брат ребёнок собака кошка дом город улица парк река море горы
книга фильм песня игра картина письмо история вопрос ответ идея план проблема причина время день ночь неделя
месяц год утро вечер час минута деньги школа урок учитель студент врач машина автобус поезд самолёт билет
гостиница комната кухня сад окно дверь стол стул телефон компьютер новости дождь снег солнце ветер холодно
тепло ужин обед завтрак чай хлеб сыр яблоко суп праздник подарок будущее прошлое мечта надежда страх удача
здоровье голова сердце рука глаза голос имя потому но и или если когда после перед""".split()
EN_NAMES = ["Ann", "Bob", "Clara", "David", "Emma", "Frank", "Grace", "Henry", "Iris", "Jack"]
RU_NAMES = ["Анна", "Борис", "Вера", "Глеб", "Дарья", "Егор", "Жанна", "Иван", "Ксения", "Лев"]


def users(count):
  """(telegram_id, first_name, username, language_code) of every seeded user."""
  rows = []
  for i in range(count):
    russian = i % 2 == 1
    names = RU_NAMES if russian else EN_NAMES
    rows.append((TELEGRAM_ID_BASE + i, names[i % len(names)], f"bench_user_{i}", "ru" if russian else "en"))
  return rows


def sentence(rng, russian):
  """One message: 4..30 words of one language (a few mixed), topic words in their shares."""
  words = RU_WORDS if russian else EN_WORDS
  text = [rng.choice(words) for _ in range(rng.randint(4, 30))]
  for word, share in TOPICS:
    if rng.random() < share:
      text.insert(rng.randrange(len(text) + 1), word)
  text[0] = text[0].capitalize()
  return " ".join(text) + rng.choice([".", "!", "?", "..."])


def messages(user_rows, total, rng):
  """(telegram_id, role, content, created_at as datetime), oldest first, spread over 30 days."""
  per_user = max(1, total // len(user_rows))
  start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=30)
  rows = []
  for k in range(per_user):
    for telegram_id, _, _, language in user_rows:
      if len(rows) >= total:
        break
      russian = (language == "ru") != (rng.random() < 0.1)
      created = start + dt.timedelta(seconds=k * (30 * 86400 // per_user) + (telegram_id % 3600))
      rows.append((telegram_id, "user" if k % 2 == 0 else "assistant", sentence(rng, russian), created))
  return rows


def counts():
  return int(os.environ.get("SEED_USERS", "1000")), int(os.environ.get("SEED_MESSAGES", "200000"))


def micros(moment):
  return int(moment.timestamp() * 1_000_000)


def seed_sqlite(path):
  user_count, message_count = counts()
  rng = random.Random(20240610)
  user_rows = users(user_count)
  now = micros(dt.datetime.now(dt.timezone.utc))
  db = sqlite3.connect(path)
  db.execute("PRAGMA journal_mode=WAL")
  db.execute("PRAGMA synchronous=NORMAL")
  with db:
    db.executemany(
        "INSERT INTO users (telegram_id, first_name, username, language_code, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)", [(*row, now, now) for row in user_rows])
    ids = dict(db.execute("SELECT telegram_id, id FROM users"))
    db.executemany(
        "INSERT INTO messages (user_id, role, content, tokens, created_at, finish_reason) VALUES (?, ?, ?, ?, ?, ?)",
        ((ids[t], role, content, len(content) // 4, micros(created), "stop" if role == "assistant" else None)
         for t, role, content, created in messages(user_rows, message_count, rng)))
  db.execute("ANALYZE")
  db.close()
  print(f"seed: sqlite {path}: {user_count} users, {message_count} messages")


def copy_text(value):
  return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def seed_postgres(url):
  user_count, message_count = counts()
  rng = random.Random(20240610)
  user_rows = users(user_count)
  now = dt.datetime.now(dt.timezone.utc).isoformat()
  lines = ["\\set ON_ERROR_STOP on",
           "CREATE TEMP TABLE seed_messages (telegram_id bigint, role text, content text, created_at timestamptz);",
           "COPY users (telegram_id, first_name, username, language_code, created_at, updated_at) FROM STDIN;"]
  lines += [f"{t}\t{copy_text(n)}\t{u}\t{lang}\t{now}\t{now}" for t, n, u, lang in user_rows]
  lines += ["\\.", "COPY seed_messages FROM STDIN;"]
  lines += [f"{t}\t{role}\t{copy_text(c)}\t{created.isoformat()}"
            for t, role, c, created in messages(user_rows, message_count, rng)]
  lines += ["\\.",
            "INSERT INTO messages (user_id, role, content, tokens, created_at, finish_reason) "
            "SELECT u.id, s.role, s.content, length(s.content) / 4, s.created_at, "
            "CASE WHEN s.role = 'assistant' THEN 'stop' END "
            "FROM seed_messages s JOIN users u USING (telegram_id) ORDER BY s.created_at, u.id;",
            "ANALYZE;"]
  subprocess.run(["psql", "-q", "-X", url], input="\n".join(lines) + "\n", text=True, check=True,
                 stdout=subprocess.DEVNULL)
  print(f"seed: postgres: {user_count} users, {message_count} messages")


def init_data(bot_token, telegram_id, first_name, username, language):
  """A Mini App initData query string signed with the bot token, as Telegram signs it."""
  user = json.dumps({"id": telegram_id, "first_name": first_name, "username": username, "language_code": language},
                    separators=(",", ":"), ensure_ascii=False)
  fields = {"auth_date": str(int(time.time())), "query_id": f"bench{telegram_id}", "user": user}
  check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
  key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
  fields["hash"] = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
  return urllib.parse.urlencode(fields)


def sign_in(base_url, bot_token, out_dir):
  user_count, _ = counts()
  parsed = urllib.parse.urlsplit(base_url)
  connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
  tokens, bodies = [], []
  for telegram_id, first_name, username, language in users(user_count):
    body = json.dumps({"init_data": init_data(bot_token, telegram_id, first_name, username, language)})
    connection.request("POST", "/api/v1/auth", body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    answer = response.read()
    if response.status != 200:
      sys.exit(f"seed: sign-in of {telegram_id} answered {response.status}: {answer[:300]!r}")
    tokens.append(json.loads(answer)["access_token"])
    bodies.append(body)
  with open(os.path.join(out_dir, "tokens.txt"), "w", encoding="utf-8") as out:
    out.write("\n".join(tokens) + "\n")
  with open(os.path.join(out_dir, "auth_bodies.txt"), "w", encoding="utf-8") as out:
    out.write("\n".join(bodies) + "\n")
  print(f"seed: {len(tokens)} users signed in")


def main():
  if len(sys.argv) == 3 and sys.argv[1] == "sqlite":
    seed_sqlite(sys.argv[2])
  elif len(sys.argv) == 3 and sys.argv[1] == "postgres":
    seed_postgres(sys.argv[2])
  elif len(sys.argv) == 5 and sys.argv[1] == "auth":
    sign_in(sys.argv[2], sys.argv[3], sys.argv[4])
  else:
    sys.exit(__doc__)


if __name__ == "__main__":
  main()
