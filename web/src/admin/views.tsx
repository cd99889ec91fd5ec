// The admin panel's screens, each on its admin API route.
import type { JSX } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { ApiClient } from '../shared/api';
import { describeError } from '../shared/errors';
import { formatDateTime, formatNumber } from '../shared/format';
import type { Navigate } from './app';
import { StarIcon } from '../shared/icons';
import { DailyChart, type Line } from './charts';
import type { AdminUser, AuditEntry, Backup, FlagState, Payment, Stats, UserDetail } from './types';

function ErrorBox(props: { error: string | null }): JSX.Element | null {
  return props.error === null ? null : (
    <div class="error-box" role="alert">
      {props.error}
    </div>
  );
}

function Status(props: { text: string | null }): JSX.Element | null {
  return props.text === null ? null : (
    <p role="status" class="ok-text">
      {props.text}
    </p>
  );
}

/** Loads `path` on mount and whenever `reload()` is called. */
function useResource<T>(api: ApiClient, path: string): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    api
      .get<T>(path)
      .then((value) => live && setData(value))
      .catch((failure: unknown) => live && setError(describeError(failure)));
    return () => {
      live = false;
    };
  }, [api, path, round]);
  return { data, error, reload: () => setRound((r) => r + 1) };
}

function userName(user: { first_name: string; last_name?: string | null }): string {
  return [user.first_name, user.last_name ?? ''].join(' ').trim();
}

function plural(count: number, noun: string): string {
  return `${formatNumber(count)} ${noun}${count === 1 ? '' : 's'}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) {
    return `${bytes} B`;
  }
  if (bytes < 1024 * 1024) {
    return `${(bytes / 1024).toFixed(1)} KiB`;
  }
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function UserLink(props: { id: number; label: string; navigate: Navigate }): JSX.Element {
  return (
    <a
      href={`/admin/users/${props.id}`}
      onClick={(event) => {
        if (event.button === 0 && !event.metaKey && !event.ctrlKey) {
          event.preventDefault();
          props.navigate(`/admin/users/${props.id}`);
        }
      }}
    >
      {props.label}
    </a>
  );
}

// ---------------------------------------------------------------- dashboard

const palette = ['#4f6df5', '#e0663f', '#2aa876', '#b455d6', '#d4a20b'];

export function DashboardView(props: { api: ApiClient }): JSX.Element {
  const [days, setDays] = useState(30);
  const { data, error } = useResource<Stats>(props.api, `/api/v1/admin/stats?days=${days}`);
  const charts = useMemo(() => {
    if (data === null) {
      return null;
    }
    const rows = data.series;
    const pick = (f: (row: (typeof rows)[number]) => number | null): Array<number | null> => rows.map(f);
    const lines = (items: Array<[string, Array<number | null>]>): Line[] =>
      items.map(([label, values], i) => ({ label, values, color: palette[i % palette.length] ?? '#888' }));
    return {
      days: rows.map((row) => row.day),
      messages: lines([['Messages', pick((r) => r.messages)]]),
      users: lines([
        ['Active users', pick((r) => r.active_users)],
        ['New users', pick((r) => r.new_users)],
      ]),
      revenue: lines([['Stars', pick((r) => r.stars_revenue)]]),
      tokens: lines([
        ['Tokens in', pick((r) => r.tokens_in)],
        ['Tokens out', pick((r) => r.tokens_out)],
      ]),
      errors: lines([
        [
          'Error rate',
          pick((r) => (r.messages > 0 ? Math.round((1000 * r.model_errors) / r.messages) / 10 : r.model_errors > 0 ? 100 : 0)),
        ],
      ]),
      latency: lines([['p95 latency', pick((r) => r.p95_latency_ms)]]),
      totals: {
        messages: rows.reduce((a, r) => a + r.messages, 0),
        newUsers: rows.reduce((a, r) => a + r.new_users, 0),
        stars: rows.reduce((a, r) => a + r.stars_revenue, 0),
        errors: rows.reduce((a, r) => a + r.model_errors, 0),
      },
    };
  }, [data]);

  return (
    <section aria-labelledby="dashboard-title">
      <div class="head-row">
        <h1 id="dashboard-title">Dashboard</h1>
        <div class="segmented" role="group" aria-label="Period">
          {[7, 30, 90].map((n) => (
            <button key={n} type="button" aria-pressed={days === n} onClick={() => setDays(n)}>
              {n} days
            </button>
          ))}
        </div>
      </div>
      <ErrorBox error={error} />
      {charts === null && error === null ? <p class="muted">Loading…</p> : null}
      {charts !== null ? (
        <>
          <div class="tiles">
            <div class="card tile">
              <span class="muted small">Messages</span>
              <strong>{formatNumber(charts.totals.messages)}</strong>
            </div>
            <div class="card tile">
              <span class="muted small">New users</span>
              <strong>{formatNumber(charts.totals.newUsers)}</strong>
            </div>
            <div class="card tile">
              <span class="muted small">Stars revenue</span>
              <strong>
                {formatNumber(charts.totals.stars)} <StarIcon />
              </strong>
            </div>
            <div class="card tile">
              <span class="muted small">Model errors</span>
              <strong>{formatNumber(charts.totals.errors)}</strong>
            </div>
          </div>
          <div class="charts">
            <DailyChart title="Messages per day" days={charts.days} lines={charts.messages} />
            <DailyChart title="Active and new users" days={charts.days} lines={charts.users} />
            <DailyChart title="Stars revenue" days={charts.days} lines={charts.revenue} />
            <DailyChart title="Model tokens" days={charts.days} lines={charts.tokens} />
            <DailyChart title="Model error rate" days={charts.days} lines={charts.errors} unit=" %" />
            <DailyChart title="Chat latency (p95)" days={charts.days} lines={charts.latency} unit=" ms" />
          </div>
        </>
      ) : null}
    </section>
  );
}

// ---------------------------------------------------------------- users

type Tri = '' | 'true' | 'false';

export function UsersView(props: { api: ApiClient; navigate: Navigate }): JSX.Element {
  const [query, setQuery] = useState('');
  const [premium, setPremium] = useState<Tri>('');
  const [banned, setBanned] = useState<Tri>('');
  const [activeSince, setActiveSince] = useState('');
  const [applied, setApplied] = useState({ query: '', premium: '' as Tri, banned: '' as Tri, activeSince: '' });
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const path = useMemo(() => {
    const params = new URLSearchParams({ limit: '25' });
    if (applied.query !== '') params.set('query', applied.query);
    if (applied.premium !== '') params.set('premium', applied.premium);
    if (applied.banned !== '') params.set('banned', applied.banned);
    if (applied.activeSince !== '') params.set('active_since', applied.activeSince);
    if (cursor !== null) params.set('cursor', cursor);
    return `/api/v1/admin/users?${params.toString()}`;
  }, [applied, cursor]);
  const { data, error } = useResource<{ users: AdminUser[]; next_cursor: number | string | null }>(props.api, path);

  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <form
        class="row filters"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setCursors([null]);
          setApplied({ query: query.trim(), premium, banned, activeSince });
        }}
      >
        <label class="field grow">
          Search
          <input
            type="search"
            placeholder="Name, username or Telegram id"
            value={query}
            onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label class="field">
          Premium
          <select value={premium} onChange={(e) => setPremium((e.currentTarget as HTMLSelectElement).value as Tri)}>
            <option value="">Any</option>
            <option value="true">Premium</option>
            <option value="false">Free</option>
          </select>
        </label>
        <label class="field">
          Banned
          <select value={banned} onChange={(e) => setBanned((e.currentTarget as HTMLSelectElement).value as Tri)}>
            <option value="">Any</option>
            <option value="true">Banned</option>
            <option value="false">Not banned</option>
          </select>
        </label>
        <label class="field">
          Active since
          <input
            type="date"
            value={activeSince}
            onInput={(e) => setActiveSince((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      <ErrorBox error={error} />
      {data !== null ? (
        <>
          <div class="table-wrap">
            <table class="users-table">
              <thead>
                <tr>
                  <th scope="col">Id</th>
                  <th scope="col">Name</th>
                  <th scope="col">Username</th>
                  <th scope="col">Telegram id</th>
                  <th scope="col">Status</th>
                  <th scope="col">Today</th>
                  <th scope="col">Joined</th>
                </tr>
              </thead>
              <tbody>
                {data.users.map((user) => (
                  <tr key={user.id}>
                    <td>{user.id}</td>
                    <td>
                      <UserLink id={user.id} label={userName(user) || '(no name)'} navigate={props.navigate} />
                    </td>
                    <td>{user.username !== null && user.username !== undefined ? `@${user.username}` : ''}</td>
                    <td>{user.telegram_id}</td>
                    <td>
                      {user.premium.active ? <span class="badge premium">Premium</span> : null}{' '}
                      {user.banned ? <span class="badge banned">Banned</span> : null}
                    </td>
                    <td>{user.usage.messages_today}</td>
                    <td>{formatDateTime(user.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {data.users.length === 0 ? <p class="muted">No users match.</p> : null}
          <div class="row pager">
            <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              ← Previous
            </button>
            <button
              type="button"
              disabled={data.next_cursor === null}
              onClick={() => setCursors((c) => [...c, String(data.next_cursor)])}
            >
              Next →
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}

export function UserView(props: { api: ApiClient; id: number; navigate: Navigate }): JSX.Element {
  const { api, id } = props;
  const { data: user, error, reload } = useResource<UserDetail>(api, `/api/v1/admin/users/${id}`);
  const [days, setDays] = useState(30);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  const act = async (label: string, work: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    setActionError(null);
    setStatus(null);
    try {
      await work();
      setStatus(label);
      reload();
    } catch (failure) {
      setActionError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };
  const body = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
    reason.trim() === '' ? extra : { ...extra, reason: reason.trim() };

  return (
    <section aria-labelledby="user-title">
      <p>
        <a
          href="/admin/users"
          onClick={(event) => {
            event.preventDefault();
            props.navigate('/admin/users');
          }}
        >
          ← Users
        </a>
      </p>
      <ErrorBox error={error} />
      {user !== null ? (
        <>
          <h1 id="user-title">
            {userName(user) || '(no name)'}{' '}
            {user.premium.active ? <span class="badge premium">Premium</span> : null}{' '}
            {user.banned ? <span class="badge banned">Banned</span> : null}
          </h1>
          <div class="grid-2">
            <dl class="card facts-list">
              <dt>Id</dt>
              <dd>{user.id}</dd>
              <dt>Telegram id</dt>
              <dd>{user.telegram_id}</dd>
              <dt>Username</dt>
              <dd>{user.username !== null && user.username !== undefined ? `@${user.username}` : '–'}</dd>
              <dt>Language</dt>
              <dd>{user.language_code ?? '–'}</dd>
              <dt>Joined</dt>
              <dd>{formatDateTime(user.created_at)}</dd>
              <dt>Last active</dt>
              <dd>{formatDateTime(user.last_active_at) || '–'}</dd>
              <dt>Premium</dt>
              <dd class="premium-state">
                {user.premium.active
                  ? `Active${user.premium.until !== null ? ` until ${formatDateTime(user.premium.until)}` : ''}`
                  : 'Not active'}
              </dd>
            </dl>
            <dl class="card facts-list">
              <dt>Messages today</dt>
              <dd>{formatNumber(user.usage.messages_today)}</dd>
              <dt>Messages, 30 days</dt>
              <dd>{formatNumber(user.usage.messages_30d)}</dd>
              <dt>Messages, all time</dt>
              <dd>{formatNumber(user.messages)}</dd>
              <dt>Memory</dt>
              <dd>
                {user.memory !== undefined
                  ? `${plural(user.memory.facts, 'fact')}, summary of ${plural(user.memory.summary_chars, 'character')}`
                  : '–'}
              </dd>
            </dl>
          </div>

          <div class="card stack">
            <h2>Actions</h2>
            <ErrorBox error={actionError} />
            <Status text={status} />
            <label class="field">
              Reason (written to the audit log)
              <input value={reason} maxLength={500} onInput={(e) => setReason((e.currentTarget as HTMLInputElement).value)} />
            </label>
            <div class="row">
              <label class="field">
                Days
                <input
                  type="number"
                  min={1}
                  max={3650}
                  value={days}
                  onInput={(e) => setDays(Number((e.currentTarget as HTMLInputElement).value))}
                />
              </label>
              <button
                type="button"
                class="primary"
                disabled={busy || !(days >= 1)}
                onClick={() =>
                  void act(`Premium granted for ${days} days.`, () =>
                    api.post(`/api/v1/admin/users/${id}/premium`, body({ days })),
                  )
                }
              >
                Grant premium
              </button>
              <button
                type="button"
                disabled={busy || !user.premium.active}
                onClick={() =>
                  void act('Premium revoked.', () => api.json('DELETE', `/api/v1/admin/users/${id}/premium`, body()))
                }
              >
                Revoke premium
              </button>
              {user.banned ? (
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => void act('User unbanned.', () => api.post(`/api/v1/admin/users/${id}/unban`, body()))}
                >
                  Unban
                </button>
              ) : (
                <button
                  type="button"
                  class="danger"
                  disabled={busy}
                  onClick={() => void act('User banned.', () => api.post(`/api/v1/admin/users/${id}/ban`, body()))}
                >
                  Ban
                </button>
              )}
            </div>
          </div>

          <div class="card">
            <h2>Payments</h2>
            <PaymentTable payments={user.payments ?? []} api={api} navigate={props.navigate} onChange={reload} />
          </div>
        </>
      ) : null}
    </section>
  );
}

// ---------------------------------------------------------------- payments

function PaymentTable(props: {
  api: ApiClient;
  payments: Payment[];
  navigate: Navigate;
  onChange: () => void;
}): JSX.Element {
  const [confirm, setConfirm] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  const refund = async (payment: Payment): Promise<void> => {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const answer = await props.api.post<{ already_refunded?: boolean }>(
        `/api/v1/admin/payments/${encodeURIComponent(payment.charge_id)}/refund`,
        {},
      );
      setStatus(answer.already_refunded === true ? 'That payment was already refunded.' : 'Refunded; the premium days were revoked.');
      setConfirm(null);
      props.onChange();
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  if (props.payments.length === 0) {
    return <p class="muted">No payments.</p>;
  }
  return (
    <>
      <ErrorBox error={error} />
      <Status text={status} />
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">User</th>
              <th scope="col">Plan</th>
              <th scope="col">Amount</th>
              <th scope="col">Status</th>
              <th scope="col">Charge</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.payments.map((payment) => (
              <tr key={payment.charge_id}>
                <td>{formatDateTime(payment.created_at)}</td>
                <td>
                  <UserLink id={payment.user_id} label={`#${payment.user_id}`} navigate={props.navigate} />
                </td>
                <td>
                  {payment.plan} ({payment.days} days)
                </td>
                <td>
                  {formatNumber(payment.amount)} {payment.currency === 'XTR' ? 'Stars' : payment.currency}
                </td>
                <td>{payment.status === 'refunded' ? `refunded ${formatDateTime(payment.refunded_at)}` : payment.status}</td>
                <td class="mono small">{payment.charge_id}</td>
                <td>
                  {payment.status === 'refunded' ? null : confirm === payment.charge_id ? (
                    <span class="row">
                      <button type="button" class="danger" disabled={busy} onClick={() => void refund(payment)}>
                        Confirm refund
                      </button>
                      <button type="button" class="link" onClick={() => setConfirm(null)}>
                        Cancel
                      </button>
                    </span>
                  ) : (
                    <button type="button" onClick={() => setConfirm(payment.charge_id)}>
                      Refund…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function PaymentsView(props: { api: ApiClient; navigate: Navigate }): JSX.Element {
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const path = `/api/v1/admin/payments?limit=25${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  const { data, error, reload } = useResource<{ payments: Payment[]; next_cursor: number | string | null }>(props.api, path);
  return (
    <section aria-labelledby="payments-title">
      <h1 id="payments-title">Payments</h1>
      <ErrorBox error={error} />
      {data !== null ? (
        <>
          <PaymentTable api={props.api} payments={data.payments} navigate={props.navigate} onChange={reload} />
          <div class="row pager">
            <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              ← Previous
            </button>
            <button
              type="button"
              disabled={data.next_cursor === null}
              onClick={() => setCursors((c) => [...c, String(data.next_cursor)])}
            >
              Next →
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}

// ---------------------------------------------------------------- cleanup, backups

export function CleanupView(props: { api: ApiClient }): JSX.Element {
  const [days, setDays] = useState(90);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  const run = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const answer = await props.api.post<{ deleted_messages: number }>('/api/v1/admin/cleanup', { older_than_days: days });
      setStatus(`Deleted ${formatNumber(answer.deleted_messages)} messages older than ${days} days.`);
      setConfirming(false);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="cleanup-title">
      <h1 id="cleanup-title">Cleanup</h1>
      <div class="card stack">
        <p>Delete chat messages older than a number of days, for every user. Summaries and facts stay.</p>
        <ErrorBox error={error} />
        <Status text={status} />
        <label class="field narrow">
          Older than (days)
          <input
            type="number"
            min={1}
            max={3650}
            value={days}
            onInput={(e) => {
              setDays(Number((e.currentTarget as HTMLInputElement).value));
              setConfirming(false);
            }}
          />
        </label>
        {confirming ? (
          <div class="notice" role="alertdialog" aria-labelledby="cleanup-confirm">
            <p id="cleanup-confirm">Delete every message older than {days} days? This cannot be undone.</p>
            <div class="row">
              <button type="button" class="danger" disabled={busy} onClick={() => void run()}>
                Yes, delete them
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </div>
          </div>
        ) : (
          <div>
            <button type="button" class="danger" disabled={!(days >= 1)} onClick={() => setConfirming(true)}>
              Delete old messages…
            </button>
          </div>
        )}
      </div>
    </section>
  );
}

export function BackupsView(props: { api: ApiClient }): JSX.Element {
  const { data, error, reload } = useResource<{ backups: Backup[] }>(props.api, '/api/v1/admin/backups');
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  const create = async (): Promise<void> => {
    setBusy(true);
    setActionError(null);
    setStatus(null);
    try {
      const backup = await props.api.post<Backup>('/api/v1/admin/backups', {});
      setStatus(`Backup ${backup.name} created.`);
      reload();
    } catch (failure) {
      setActionError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="backups-title">
      <div class="head-row">
        <h1 id="backups-title">Backups</h1>
        <button type="button" class="primary" disabled={busy} onClick={() => void create()}>
          {busy ? 'Creating…' : 'Create backup'}
        </button>
      </div>
      <ErrorBox error={error ?? actionError} />
      <Status text={status} />
      {data !== null && data.backups.length === 0 ? <p class="muted">No backups yet.</p> : null}
      {data !== null && data.backups.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col">Engine</th>
                <th scope="col">Size</th>
                <th scope="col">SHA-256</th>
              </tr>
            </thead>
            <tbody>
              {data.backups.map((backup) => (
                <tr key={backup.name}>
                  <td class="mono small">{backup.name}</td>
                  <td>{formatDateTime(backup.created_at)}</td>
                  <td>{backup.dialect}</td>
                  <td>{formatBytes(backup.bytes)}</td>
                  <td class="mono small">{backup.sha256 !== null ? `${backup.sha256.slice(0, 12)}…` : 'no manifest'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

// ---------------------------------------------------------------- audit, flags, health

export function AuditView(props: { api: ApiClient }): JSX.Element {
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const path = `/api/v1/admin/audit?limit=50${cursor !== null ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  const { data, error } = useResource<{ entries: AuditEntry[]; next_cursor: number | string | null }>(props.api, path);
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <ErrorBox error={error} />
      {data !== null ? (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Admin</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {data.entries.map((entry) => (
                  <tr key={entry.id}>
                    <td>{formatDateTime(entry.created_at)}</td>
                    <td>{entry.admin_id === null ? 'command line' : `#${entry.admin_id}`}</td>
                    <td>{entry.action}</td>
                    <td>{entry.target}</td>
                    <td class="small details">
                      <AuditDetails details={entry.details} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {data.entries.length === 0 ? <p class="muted">Nothing recorded yet.</p> : null}
          <div class="row pager">
            <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              ← Newer
            </button>
            <button
              type="button"
              disabled={data.next_cursor === null}
              onClick={() => setCursors((c) => [...c, String(data.next_cursor)])}
            >
              Older →
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}

/** An audit entry's details: the reason and channel in words, before/after as compact JSON. */
function AuditDetails(props: { details: unknown }): JSX.Element {
  const details = props.details;
  if (typeof details !== 'object' || details === null) {
    return <span class="mono">{String(details ?? '')}</span>;
  }
  const record = details as Record<string, unknown>;
  const parts: JSX.Element[] = [];
  if (typeof record.reason === 'string' && record.reason !== '') {
    parts.push(<div key="reason">Reason: {record.reason}</div>);
  }
  if (typeof record.via === 'string') {
    parts.push(
      <div key="via" class="muted">
        via {record.via === 'cli' ? 'command line' : record.via}
      </div>,
    );
  }
  for (const key of ['before', 'after']) {
    if (record[key] !== undefined && record[key] !== null) {
      parts.push(
        <div key={key} class="mono">
          {key}: {JSON.stringify(record[key])}
        </div>,
      );
    }
  }
  const rest = Object.fromEntries(
    Object.entries(record).filter(([key]) => !['reason', 'via', 'before', 'after', 'request_id'].includes(key)),
  );
  if (Object.keys(rest).length > 0) {
    parts.push(
      <div key="rest" class="mono">
        {JSON.stringify(rest)}
      </div>,
    );
  }
  return <>{parts}</>;
}

const flagHelp: Record<string, string> = {
  voice_replies: 'Voice replies to users who asked for them',
  relevant_past: 'Older relevant messages found by search are added to the context',
  telegram_streaming: 'Replies in Telegram appear while they are written',
  new_user_signup: 'New people can sign up',
};

export function FlagsView(props: { api: ApiClient }): JSX.Element {
  const { data, error, reload } = useResource<{ flags: Record<string, FlagState> }>(props.api, '/api/v1/admin/flags');
  const [draft, setDraft] = useState<Record<string, FlagState>>({});
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  useEffect(() => {
    if (data !== null) {
      setDraft(data.flags);
    }
  }, [data]);

  const save = async (): Promise<void> => {
    setBusy(true);
    setActionError(null);
    setStatus(null);
    try {
      await props.api.put('/api/v1/admin/flags', { flags: draft });
      setStatus('Flags saved.');
      reload();
    } catch (failure) {
      setActionError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  const set = (name: string, change: Partial<FlagState>): void => {
    setStatus(null);
    setDraft((current) => ({ ...current, [name]: { ...(current[name] ?? { enabled: true, percentage: 100 }), ...change } }));
  };

  return (
    <section aria-labelledby="flags-title">
      <h1 id="flags-title">Feature flags</h1>
      <ErrorBox error={error ?? actionError} />
      <Status text={status} />
      <form
        class="stack"
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        {Object.entries(draft).map(([name, state]) => (
          <fieldset key={name} class="card flag">
            <legend class="mono">{name}</legend>
            <p class="muted small">{flagHelp[name] ?? ''}</p>
            <div class="row">
              <label class="check">
                <input type="checkbox" checked={state.enabled} onChange={(e) => set(name, { enabled: (e.currentTarget as HTMLInputElement).checked })} />
                On
              </label>
              <label class="field">
                Rollout (% of users)
                <input
                  type="number"
                  min={0}
                  max={100}
                  value={state.percentage}
                  onInput={(e) => set(name, { percentage: Number((e.currentTarget as HTMLInputElement).value) })}
                />
              </label>
            </div>
          </fieldset>
        ))}
        {data !== null ? (
          <div>
            <button type="submit" class="primary" disabled={busy}>
              Save flags
            </button>
          </div>
        ) : null}
      </form>
    </section>
  );
}

interface Readiness {
  status: string;
  checks: Record<string, { ok?: boolean; latency_ms?: number; error?: string; [key: string]: unknown }>;
}

/** `evolveai_circuit_breaker_state{…}` samples of the Prometheus text. */
function breakerStates(metrics: string): Array<{ labels: string; state: string }> {
  const names = ['closed', 'open', 'half-open'];
  const out: Array<{ labels: string; state: string }> = [];
  for (const line of metrics.split('\n')) {
    const match = /^evolveai_circuit_breaker_state\{([^}]*)\}\s+([0-9.eE+-]+)/.exec(line);
    if (match === null) {
      continue;
    }
    const labels = match[1] ?? '';
    const value = Number(match[2]);
    const stateLabel = /state="([^"]+)"/.exec(labels);
    const rest = labels
      .split(',')
      .filter((part) => !part.startsWith('state='))
      .map((part) => part.replace(/"/g, '').replace(/^name=/, ''))
      .join(', ');
    if (stateLabel !== null) {
      if (value === 1) {
        out.push({ labels: rest, state: stateLabel[1] ?? '' });
      }
    } else {
      out.push({ labels: rest, state: names[value] ?? String(value) });
    }
  }
  return out;
}

export function HealthView(_props: { api: ApiClient }): JSX.Element {
  const [ready, setReady] = useState<Readiness | null>(null);
  const [breakers, setBreakers] = useState<Array<{ labels: string; state: string }> | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async (): Promise<void> => {
    setError(null);
    try {
      // 503 still carries the checks: read the body whatever the status.
      const readiness = await fetch('/readyz', { headers: { Accept: 'application/json' } });
      setReady((await readiness.json()) as Readiness);
      const metrics = await fetch('/metrics');
      setBreakers(metrics.ok ? breakerStates(await metrics.text()) : []);
    } catch {
      setError("Can't reach the server. Check the connection and try again.");
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section aria-labelledby="health-title">
      <div class="head-row">
        <h1 id="health-title">Health</h1>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <ErrorBox error={error} />
      {ready !== null ? (
        <div class="card">
          <h2>
            Readiness:{' '}
            <span class={ready.status === 'ready' ? 'ok-text' : 'danger-text'}>
              {ready.status === 'ready' ? 'ready' : 'not ready'}
            </span>
          </h2>
          <table>
            <tbody>
              {Object.entries(ready.checks).map(([name, check]) => (
                <tr key={name}>
                  <th scope="row">{name}</th>
                  <td class={check.ok === false ? 'danger-text' : 'ok-text'}>{check.ok === false ? 'failing' : 'ok'}</td>
                  <td>{check.latency_ms !== undefined ? `${formatNumber(check.latency_ms)} ms` : ''}</td>
                  <td class="small muted">
                    {Object.entries(check)
                      .filter(([key]) => key !== 'ok' && key !== 'latency_ms')
                      .map(([key, value]) => `${key}: ${String(value)}`)
                      .join(' · ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {breakers !== null ? (
        <div class="card">
          <h2>Circuit breakers</h2>
          {breakers.length === 0 ? <p class="muted">No circuit breakers reported.</p> : null}
          <ul>
            {breakers.map((breaker) => (
              <li key={breaker.labels}>
                {breaker.labels}: <strong class={breaker.state === 'closed' ? 'ok-text' : 'danger-text'}>{breaker.state}</strong>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
