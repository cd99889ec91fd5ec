// The chat app's shell: signing in (Mini App init data, Login Widget redirect, or a stored
// session), the profile, and the four screens.
import type { JSX } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiClient, ApiError } from '../shared/api';
import { describeError } from '../shared/errors';
import { applyTheme, themeChoice } from '../shared/theme';
import { ChatView } from './chat_view';
import { AccountView } from './account_view';
import { MemoryView } from './memory_view';
import { SearchView } from './search_view';
import { loginWidgetRedirect, MiniApp, mountLoginWidget } from './telegram';
import type { Profile, SignIn, Usage } from './types';

export type Screen = 'chat' | 'search' | 'memory' | 'account';

const kSessionKey = 'evolveai.session';

interface StoredSession {
  token: string;
  expires_at: number;
}

function storedSession(): StoredSession | null {
  try {
    const value = JSON.parse(sessionStorage.getItem(kSessionKey) ?? 'null') as StoredSession | null;
    if (value !== null && typeof value.token === 'string' && value.expires_at > Date.now() + 30_000) {
      return value;
    }
  } catch {
    // A damaged entry is the same as none.
  }
  return null;
}

function storeSession(session: StoredSession | null): void {
  try {
    if (session === null) {
      sessionStorage.removeItem(kSessionKey);
    } else {
      sessionStorage.setItem(kSessionKey, JSON.stringify(session));
    }
  } catch {
    // The session then lasts as long as the page.
  }
}

/** The bot name for the Login Widget, set when the app was built (VITE_TELEGRAM_BOT_USERNAME). */
function widgetBot(): string {
  const name = (import.meta.env.VITE_TELEGRAM_BOT_USERNAME as string | undefined) ?? '';
  return /^[A-Za-z0-9_]{5,64}$/.test(name) ? name : '';
}

type Phase = { kind: 'starting' } | { kind: 'signed_out'; message: string | null } | { kind: 'ready' };

const screens: Array<{ id: Screen; label: string }> = [
  { id: 'chat', label: 'Chat' },
  { id: 'search', label: 'Search' },
  { id: 'memory', label: 'Memory' },
  { id: 'account', label: 'Account' },
];

export function App(): JSX.Element {
  const api = useMemo(() => new ApiClient(), []);
  const [phase, setPhase] = useState<Phase>({ kind: 'starting' });
  const [miniApp, setMiniApp] = useState<MiniApp | null>(null);
  const [profile, setProfile] = useState<Profile | null>(null);
  const [screen, setScreen] = useState<Screen>('chat');
  const [error, setError] = useState<string | null>(null);
  // The conversation stays mounted across screens (a reply keeps streaming); a new epoch starts it afresh.
  const [chatEpoch, setChatEpoch] = useState(0);

  const exchange = useCallback(
    async (body: unknown): Promise<void> => {
      api.setToken(null);
      const answer = await api.post<SignIn>('/api/v1/auth', body);
      api.setToken(answer.access_token);
      storeSession({ token: answer.access_token, expires_at: Date.now() + answer.expires_in * 1000 });
    },
    [api],
  );

  const loadProfile = useCallback(async (): Promise<void> => {
    const next = await api.get<Profile>('/api/v1/profile');
    setProfile(next);
  }, [api]);

  useEffect(() => {
    applyTheme(themeChoice());
    let cancelled = false;
    const start = async (): Promise<void> => {
      const telegram = await MiniApp.detect();
      if (cancelled) {
        return;
      }
      setMiniApp(telegram);
      if (themeChoice() !== 'auto') {
        applyTheme(themeChoice());
      }
      try {
        const widget = loginWidgetRedirect();
        if (telegram !== null) {
          await exchange({ init_data: telegram.currentInitData() });
        } else if (widget !== null) {
          window.history.replaceState(null, '', '/');
          await exchange({ login_widget: widget });
        } else {
          const session = storedSession();
          if (session === null) {
            setPhase({ kind: 'signed_out', message: null });
            return;
          }
          api.setToken(session.token);
        }
        await loadProfile();
        setPhase({ kind: 'ready' });
      } catch (failure) {
        storeSession(null);
        api.setToken(null);
        setPhase({ kind: 'signed_out', message: describeError(failure) });
      }
    };
    void start();
    return () => {
      cancelled = true;
    };
  }, [api, exchange, loadProfile]);

  // An expired token: inside Telegram sign in again quietly and retry, in a browser ask the person.
  useEffect(() => {
    api.setTokenRefresher(
      miniApp === null
        ? null
        : async () => {
            const response = await fetch('/api/v1/auth', {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
              body: JSON.stringify({ init_data: miniApp.currentInitData() }),
            });
            if (!response.ok) {
              return null;
            }
            const answer = (await response.json()) as SignIn;
            storeSession({ token: answer.access_token, expires_at: Date.now() + answer.expires_in * 1000 });
            return answer.access_token;
          },
    );
    api.setUnauthorizedHandler((failure: ApiError) => {
      storeSession(null);
      api.setToken(null);
      setPhase({ kind: 'signed_out', message: describeError(failure) });
    });
  }, [api, miniApp]);

  useEffect(() => {
    miniApp?.setBackButton(screen === 'chat' ? null : () => setScreen('chat'));
  }, [miniApp, screen]);

  const refreshProfile = useCallback(() => {
    loadProfile().catch((failure: unknown) => setError(describeError(failure)));
  }, [loadProfile]);

  const updateUsage = useCallback((usage: Usage) => {
    setProfile((current) => (current === null ? current : { ...current, usage: { ...current.usage, ...usage } }));
  }, []);

  const signOut = useCallback(() => {
    storeSession(null);
    api.setToken(null);
    setProfile(null);
    setPhase({ kind: 'signed_out', message: null });
  }, [api]);

  if (phase.kind === 'starting') {
    return (
      <main class="center" aria-busy="true">
        <p class="muted">Signing in…</p>
      </main>
    );
  }
  if (phase.kind === 'signed_out' || profile === null) {
    return <SignInScreen message={phase.kind === 'signed_out' ? phase.message : null} />;
  }

  return (
    <div class="shell">
      <header class="topbar">
        <span class="brand" aria-hidden="true">
          EvolveAI
        </span>
        <nav aria-label="Screens">
          {screens.map((item) => (
            <button
              key={item.id}
              type="button"
              class={`tab${screen === item.id ? ' active' : ''}`}
              aria-current={screen === item.id ? 'page' : undefined}
              onClick={() => setScreen(item.id)}
            >
              {item.label}
            </button>
          ))}
        </nav>
        {profile.premium.active ? <span class="badge premium">Premium</span> : null}
      </header>
      {error !== null ? (
        <div class="error-box" role="alert">
          {error}{' '}
          <button type="button" class="link" onClick={() => setError(null)}>
            Dismiss
          </button>
        </div>
      ) : null}
      <main class="screen" data-screen={screen}>
        <div class="chat-holder" hidden={screen !== 'chat'}>
          <ChatView
            key={chatEpoch}
            api={api}
            profile={profile}
            miniApp={miniApp}
            onUsage={updateUsage}
            onOpenAccount={() => setScreen('account')}
            onPremiumChange={refreshProfile}
          />
        </div>
        {screen === 'search' ? <SearchView api={api} /> : null}
        {screen === 'memory' ? <MemoryView api={api} /> : null}
        {screen === 'account' ? (
          <AccountView
            api={api}
            profile={profile}
            miniApp={miniApp}
            onProfile={setProfile}
            onRefresh={refreshProfile}
            onForgotten={() => setChatEpoch((n) => n + 1)}
            onSignOut={miniApp === null ? signOut : null}
          />
        ) : null}
      </main>
    </div>
  );
}

function SignInScreen(props: { message: string | null }): JSX.Element {
  const widget = useRef<HTMLDivElement>(null);
  const bot = widgetBot();
  useEffect(() => {
    if (bot !== '' && widget.current !== null) {
      mountLoginWidget(widget.current, bot);
    }
  }, [bot]);
  return (
    <main class="center signin">
      <h1>EvolveAI</h1>
      <p>Your AI companion that remembers you.</p>
      {props.message !== null ? (
        <div class="error-box" role="alert">
          {props.message}
        </div>
      ) : null}
      {bot !== '' ? (
        <>
          <p>Sign in with your Telegram account:</p>
          <div ref={widget} class="widget" />
        </>
      ) : (
        <p class="muted">Open EvolveAI from its Telegram bot to sign in.</p>
      )}
    </main>
  );
}
