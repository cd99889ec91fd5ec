// The admin panel's shell: log-in, the session, navigation by path under /admin.
import type { JSX } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiClient } from '../shared/api';
import { describeError } from '../shared/errors';
import { applyTheme, setThemeChoice, themeChoice, type ThemeChoice } from '../shared/theme';
import {
  AuditView,
  BackupsView,
  CleanupView,
  DashboardView,
  FlagsView,
  HealthView,
  PaymentsView,
  UserView,
  UsersView,
} from './views';

const kSessionKey = 'evolveai.admin.session';

const sections: Array<{ path: string; label: string }> = [
  { path: '/admin', label: 'Dashboard' },
  { path: '/admin/users', label: 'Users' },
  { path: '/admin/payments', label: 'Payments' },
  { path: '/admin/cleanup', label: 'Cleanup' },
  { path: '/admin/backups', label: 'Backups' },
  { path: '/admin/audit', label: 'Audit log' },
  { path: '/admin/flags', label: 'Feature flags' },
  { path: '/admin/health', label: 'Health' },
];

function loadSession(): string | null {
  try {
    const value = JSON.parse(sessionStorage.getItem(kSessionKey) ?? 'null') as { token: string; expires_at: number } | null;
    return value !== null && value.expires_at > Date.now() + 10_000 ? value.token : null;
  } catch {
    return null;
  }
}

function saveSession(token: string | null, expiresIn = 0): void {
  try {
    if (token === null) {
      sessionStorage.removeItem(kSessionKey);
    } else {
      sessionStorage.setItem(kSessionKey, JSON.stringify({ token, expires_at: Date.now() + expiresIn * 1000 }));
    }
  } catch {
    // The session then lasts as long as the page.
  }
}

/** Navigates inside the panel without a page load. */
export type Navigate = (path: string) => void;

function currentPath(): string {
  const path = window.location.pathname.replace(/\/+$/, '');
  return path === '' ? '/admin' : path;
}

export function AdminApp(): JSX.Element {
  const api = useMemo(() => new ApiClient(), []);
  const [token, setToken] = useState<string | null>(() => loadSession());
  const [path, setPath] = useState(currentPath());
  const [notice, setNotice] = useState<string | null>(null);
  const [theme, setTheme] = useState<ThemeChoice>(themeChoice());

  api.setToken(token);

  useEffect(() => {
    applyTheme(themeChoice());
    const onPop = (): void => setPath(currentPath());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    api.setUnauthorizedHandler((failure) => {
      saveSession(null);
      setToken(null);
      setNotice(describeError(failure));
    });
  }, [api]);

  const navigate = useCallback<Navigate>((next) => {
    if (next !== currentPath()) {
      window.history.pushState(null, '', next);
    }
    setPath(next);
    window.scrollTo(0, 0);
  }, []);

  if (token === null) {
    return (
      <LoginView
        api={api}
        notice={notice}
        onLogin={(value, expiresIn) => {
          saveSession(value, expiresIn);
          setNotice(null);
          setToken(value);
        }}
      />
    );
  }

  const userMatch = /^\/admin\/users\/(\d+)$/.exec(path);
  let view: JSX.Element;
  if (userMatch !== null) {
    view = <UserView api={api} id={Number(userMatch[1])} navigate={navigate} />;
  } else if (path === '/admin/users') {
    view = <UsersView api={api} navigate={navigate} />;
  } else if (path === '/admin/payments') {
    view = <PaymentsView api={api} navigate={navigate} />;
  } else if (path === '/admin/cleanup') {
    view = <CleanupView api={api} />;
  } else if (path === '/admin/backups') {
    view = <BackupsView api={api} />;
  } else if (path === '/admin/audit') {
    view = <AuditView api={api} />;
  } else if (path === '/admin/flags') {
    view = <FlagsView api={api} />;
  } else if (path === '/admin/health') {
    view = <HealthView api={api} />;
  } else {
    view = <DashboardView api={api} />;
  }
  const active = userMatch !== null ? '/admin/users' : path;

  return (
    <div class="admin">
      <aside class="sidebar">
        <div class="brand">EvolveAI admin</div>
        <nav aria-label="Sections">
          {sections.map((section) => (
            <a
              key={section.path}
              href={section.path}
              aria-current={active === section.path ? 'page' : undefined}
              onClick={(event) => {
                if (event.button === 0 && !event.metaKey && !event.ctrlKey) {
                  event.preventDefault();
                  navigate(section.path);
                }
              }}
            >
              {section.label}
            </a>
          ))}
        </nav>
        <div class="sidebar-foot">
          <label class="field small">
            Theme
            <select
              value={theme}
              onChange={(event) => {
                const value = (event.currentTarget as HTMLSelectElement).value as ThemeChoice;
                setTheme(value);
                setThemeChoice(value);
              }}
            >
              <option value="auto">Like my device</option>
              <option value="light">Light</option>
              <option value="dark">Dark</option>
            </select>
          </label>
          <button
            type="button"
            onClick={() => {
              saveSession(null);
              setToken(null);
            }}
          >
            Log out
          </button>
        </div>
      </aside>
      <main class="content">{view}</main>
    </div>
  );
}

function LoginView(props: {
  api: ApiClient;
  notice: string | null;
  onLogin: (token: string, expiresIn: number) => void;
}): JSX.Element {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      props.api.setToken(null);
      const answer = await props.api.post<{ access_token: string; expires_in: number }>('/api/v1/admin/login', {
        username,
        password,
      });
      props.onLogin(answer.access_token, answer.expires_in);
    } catch (failure) {
      const words = describeError(failure);
      setError(words === 'Please sign in again.' ? 'The username or password is not right.' : words);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form
        class="card stack"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <h1>EvolveAI admin</h1>
        {props.notice !== null ? (
          <div class="notice" role="status">
            {props.notice}
          </div>
        ) : null}
        {error !== null ? (
          <div class="error-box" role="alert">
            {error}
          </div>
        ) : null}
        <label class="field">
          Username
          <input
            name="username"
            autoComplete="username"
            required
            value={username}
            onInput={(e) => setUsername((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label class="field">
          Password
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
      </form>
    </main>
  );
}
