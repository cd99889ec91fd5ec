// Usage, premium status and purchase, settings, theme, export and forget-me.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { ApiClient } from '../shared/api';
import { describeError } from '../shared/errors';
import { formatDateTime, formatWait } from '../shared/format';
import { setThemeChoice, themeChoice, type ThemeChoice } from '../shared/theme';
import { PremiumOffer } from './premium_offer';
import type { MiniApp } from './telegram';
import type { Profile, Settings } from './types';

const personas: Array<[string, string]> = [
  ['friend', 'Friend: warm and casual'],
  ['mentor', 'Mentor: wise and encouraging'],
  ['coach', 'Coach: focused on your goals'],
  ['playful', 'Playful: light and witty'],
  ['calm', 'Calm: gentle and patient'],
];

const languages: Array<[string, string]> = [
  ['auto', 'Same as my message'],
  ['en', 'English'],
  ['ru', 'Русский'],
  ['de', 'Deutsch'],
  ['es', 'Español'],
  ['fr', 'Français'],
  ['it', 'Italiano'],
  ['pt', 'Português'],
  ['uk', 'Українська'],
  ['tr', 'Türkçe'],
];

const voices: Array<[string, string]> = [
  ['default', 'Default'],
  ['female', 'Female'],
  ['male', 'Male'],
];

export function AccountView(props: {
  api: ApiClient;
  profile: Profile;
  miniApp: MiniApp | null;
  onProfile: (profile: Profile) => void;
  onRefresh: () => void;
  onForgotten: () => void;
  onSignOut: (() => void) | null;
}): JSX.Element {
  const { api, profile } = props;
  const [settings, setSettings] = useState<Settings>(profile.settings);
  const [theme, setTheme] = useState<ThemeChoice>(themeChoice());
  const [saving, setSaving] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmForget, setConfirmForget] = useState(false);

  const usage = profile.usage;
  const resets = usage.resets_at !== undefined ? new Date(usage.resets_at) : null;
  const resetsIn = resets !== null ? Math.max(0, Math.round((resets.getTime() - Date.now()) / 1000)) : null;

  const save = async (): Promise<void> => {
    setSaving(true);
    setStatus(null);
    setError(null);
    try {
      const next = await api.patch<Profile>('/api/v1/profile', { settings });
      props.onProfile(next);
      setSettings(next.settings);
      setStatus('Settings saved.');
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setSaving(false);
    }
  };

  const exportData = async (): Promise<void> => {
    setError(null);
    setStatus(null);
    try {
      const data = await api.blob('GET', '/api/v1/export');
      const url = URL.createObjectURL(data);
      const link = document.createElement('a');
      link.href = url;
      link.download = `evolveai-export-${profile.id}.json`;
      document.body.appendChild(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setStatus('Your data was downloaded.');
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  const forget = async (): Promise<void> => {
    setError(null);
    setStatus(null);
    try {
      await api.delete('/api/v1/history');
      setConfirmForget(false);
      props.onForgotten();
      setStatus('Done: your messages, summary and facts are forgotten.');
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  const field = <K extends keyof Settings>(key: K, value: Settings[K]): void => {
    setSettings((current) => ({ ...current, [key]: value }));
    setStatus(null);
  };

  return (
    <section class="page" aria-labelledby="account-title">
      <h1 id="account-title">{profile.first_name}</h1>
      {error !== null ? (
        <div class="error-box" role="alert">
          {error}
        </div>
      ) : null}
      {status !== null ? (
        <p role="status" class="ok-text">
          {status}
        </p>
      ) : null}

      <div class="card" aria-labelledby="usage-title">
        <h2 id="usage-title">Today</h2>
        {usage.daily_limit === null ? (
          <p>{usage.messages_today} messages today · unlimited with Premium</p>
        ) : (
          <>
            <p>
              {usage.messages_today} of {usage.daily_limit} free messages used
              {resetsIn !== null ? ` · renews in ${formatWait(resetsIn)}` : ''}
            </p>
            <progress max={usage.daily_limit} value={Math.min(usage.messages_today, usage.daily_limit)} />
          </>
        )}
      </div>

      <div class="card premium-status">
        <h2>Premium</h2>
        {profile.premium.active ? (
          <p>
            <span class="badge premium">Premium</span> active
            {profile.premium.until !== null ? ` until ${formatDateTime(profile.premium.until)}` : ''}
          </p>
        ) : (
          <p>You are on the free plan.</p>
        )}
      </div>
      {profile.premium.active ? null : (
        <PremiumOffer api={api} miniApp={props.miniApp} onPaid={props.onRefresh} />
      )}

      <form
        class="card stack"
        aria-labelledby="settings-title"
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <h2 id="settings-title">Settings</h2>
        <label class="field">
          Persona
          <select value={settings.persona} onChange={(e) => field('persona', (e.currentTarget as HTMLSelectElement).value)}>
            {personas.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          Reply language
          <select
            value={settings.reply_language}
            onChange={(e) => field('reply_language', (e.currentTarget as HTMLSelectElement).value)}
          >
            {languages.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          Voice
          <select value={settings.voice} onChange={(e) => field('voice', (e.currentTarget as HTMLSelectElement).value)}>
            {voices.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={settings.voice_replies}
            onChange={(e) => field('voice_replies', (e.currentTarget as HTMLInputElement).checked)}
          />
          Read replies aloud
        </label>
        <label class="field">
          Theme
          <select
            value={theme}
            onChange={(e) => {
              const value = (e.currentTarget as HTMLSelectElement).value as ThemeChoice;
              setTheme(value);
              setThemeChoice(value, props.miniApp?.scheme);
            }}
          >
            <option value="auto">{props.miniApp !== null ? 'Like Telegram' : 'Like my device'}</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
        <div>
          <button type="submit" class="primary" disabled={saving}>
            Save settings
          </button>
        </div>
      </form>

      <div class="card stack">
        <h2>Your data</h2>
        <div class="row">
          <button type="button" onClick={() => void exportData()}>
            Export my data
          </button>
          {confirmForget ? null : (
            <button type="button" class="danger" onClick={() => setConfirmForget(true)}>
              Forget me…
            </button>
          )}
        </div>
        {confirmForget ? (
          <div class="notice" role="alertdialog" aria-labelledby="forget-title">
            <p id="forget-title">
              Forget all your messages, the summary and every fact? This cannot be undone.
            </p>
            <div class="row">
              <button type="button" class="danger" onClick={() => void forget()}>
                Yes, forget everything
              </button>
              <button type="button" onClick={() => setConfirmForget(false)}>
                Keep my data
              </button>
            </div>
          </div>
        ) : null}
        {props.onSignOut !== null ? (
          <button type="button" class="link" onClick={props.onSignOut}>
            Sign out
          </button>
        ) : null}
      </div>
    </section>
  );
}
