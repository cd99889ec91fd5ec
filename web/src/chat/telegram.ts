// The Telegram Mini App side: launch data, Telegram's script (loaded only inside Telegram, and
// optional: the app works from the launch data alone), theme, viewport, main and back buttons,
// and invoices.

interface TelegramButton {
  setText(text: string): void;
  show(): void;
  hide(): void;
  onClick(handler: () => void): void;
  offClick(handler: () => void): void;
}

interface TelegramWebApp {
  initData: string;
  colorScheme?: 'light' | 'dark';
  themeParams?: Record<string, string>;
  viewportStableHeight?: number;
  MainButton?: TelegramButton;
  BackButton?: TelegramButton;
  ready?(): void;
  expand?(): void;
  onEvent?(event: string, handler: () => void): void;
  openInvoice?(url: string, callback: (status: string) => void): void;
  openTelegramLink?(url: string): void;
}

declare global {
  interface Window {
    Telegram?: { WebApp?: TelegramWebApp };
  }
}

const kScriptUrl = 'https://telegram.org/js/telegram-web-app.js';
const kLaunchKey = 'evolveai.launch';

/** The launch parameters Telegram puts in the URL fragment (kept for reloads). */
function launchParams(): URLSearchParams {
  const hash = window.location.hash.startsWith('#') ? window.location.hash.slice(1) : '';
  const params = new URLSearchParams(hash);
  if (params.has('tgWebAppData')) {
    try {
      sessionStorage.setItem(kLaunchKey, hash);
    } catch {
      // Storage may be off; a reload then simply starts without Telegram.
    }
    return params;
  }
  try {
    return new URLSearchParams(sessionStorage.getItem(kLaunchKey) ?? '');
  } catch {
    return new URLSearchParams();
  }
}

/** Telegram inside which the app runs, or null in a plain browser. */
export class MiniApp {
  private web: TelegramWebApp | null = null;
  private backHandler: (() => void) | null = null;
  /** Telegram's colour scheme, once known. */
  scheme: 'light' | 'dark' | undefined;
  private mainHandler: (() => void) | null = null;

  private constructor(
    readonly initData: string,
    private readonly params: URLSearchParams,
  ) {}

  /** The Mini App when opened from Telegram, after trying to load Telegram's script. */
  static async detect(timeoutMs = 4000): Promise<MiniApp | null> {
    const params = launchParams();
    const fromHash = params.get('tgWebAppData');
    if (fromHash === null || fromHash === '') {
      return null;
    }
    const app = new MiniApp(fromHash, params);
    app.web = await loadScript(timeoutMs);
    app.web?.ready?.();
    app.web?.expand?.();
    app.applyTheme();
    app.web?.onEvent?.('themeChanged', () => app.applyTheme());
    app.web?.onEvent?.('viewportChanged', () => app.applyViewport());
    app.applyViewport();
    return app;
  }

  /** The freshest init data: the script's if it loaded, else the launch fragment's. */
  currentInitData(): string {
    return this.web?.initData || this.initData;
  }

  /** Whether Telegram's own script is there (buttons, invoices). */
  get scripted(): boolean {
    return this.web !== null;
  }

  private applyTheme(): void {
    let theme: Record<string, string> | undefined = this.web?.themeParams;
    if (theme === undefined || Object.keys(theme).length === 0) {
      try {
        theme = JSON.parse(this.params.get('tgWebAppThemeParams') ?? '{}') as Record<string, string>;
      } catch {
        theme = {};
      }
    }
    const root = document.documentElement;
    const map: Array<[string, string]> = [
      ['bg_color', '--bg'],
      ['secondary_bg_color', '--bg-2'],
      ['text_color', '--text'],
      ['hint_color', '--muted'],
      ['link_color', '--link'],
      ['button_color', '--accent'],
      ['button_text_color', '--accent-text'],
    ];
    for (const [key, variable] of map) {
      const value = theme[key];
      if (typeof value === 'string' && /^#[0-9a-f]{3,8}$/i.test(value)) {
        root.style.setProperty(variable, value);
      }
    }
    this.scheme = this.web?.colorScheme ?? schemeOf(theme.bg_color);
    if (this.scheme !== undefined) {
      root.dataset.theme = this.scheme;
    }
    root.classList.add('in-telegram');
  }

  private applyViewport(): void {
    const height = this.web?.viewportStableHeight;
    if (typeof height === 'number' && height > 0) {
      document.documentElement.style.setProperty('--app-height', `${height}px`);
    }
  }

  /** Shows Telegram's back button calling `handler`, or hides it for null. */
  setBackButton(handler: (() => void) | null): void {
    const button = this.web?.BackButton;
    if (button === undefined) {
      return;
    }
    if (this.backHandler !== null) {
      button.offClick(this.backHandler);
    }
    this.backHandler = handler;
    if (handler === null) {
      button.hide();
    } else {
      button.onClick(handler);
      button.show();
    }
  }

  /** Shows Telegram's main button with `text` calling `handler`, or hides it for null. */
  setMainButton(text: string | null, handler: (() => void) | null): void {
    const button = this.web?.MainButton;
    if (button === undefined) {
      return;
    }
    if (this.mainHandler !== null) {
      button.offClick(this.mainHandler);
    }
    this.mainHandler = handler;
    if (text === null || handler === null) {
      button.hide();
    } else {
      button.setText(text);
      button.onClick(handler);
      button.show();
    }
  }

  /** Opens a Stars invoice inside Telegram; resolves with "paid", "cancelled", "failed" or "pending". */
  openInvoice(link: string): Promise<string> {
    const web = this.web;
    if (web?.openInvoice === undefined) {
      window.open(link, '_blank', 'noopener');
      return Promise.resolve('pending');
    }
    return new Promise((resolve) => web.openInvoice?.(link, resolve));
  }
}

function schemeOf(color: string | undefined): 'light' | 'dark' | undefined {
  if (color === undefined || !/^#[0-9a-f]{6}$/i.test(color)) {
    return undefined;
  }
  const value = Number.parseInt(color.slice(1), 16);
  const luminance = 0.299 * (value >> 16) + 0.587 * ((value >> 8) & 255) + 0.114 * (value & 255);
  return luminance < 128 ? 'dark' : 'light';
}

function loadScript(timeoutMs: number): Promise<TelegramWebApp | null> {
  if (window.Telegram?.WebApp !== undefined) {
    return Promise.resolve(window.Telegram.WebApp);
  }
  return new Promise((resolve) => {
    const script = document.createElement('script');
    const timer = window.setTimeout(() => resolve(null), timeoutMs);
    script.src = kScriptUrl;
    script.async = true;
    script.addEventListener('load', () => {
      window.clearTimeout(timer);
      resolve(window.Telegram?.WebApp ?? null);
    });
    script.addEventListener('error', () => {
      window.clearTimeout(timer);
      resolve(null);
    });
    document.head.appendChild(script);
  });
}

/** Login Widget fields Telegram appends to the redirect URL after a browser sign-in. */
export function loginWidgetRedirect(): Record<string, string> | null {
  const params = new URLSearchParams(window.location.search);
  if (!params.has('hash') || !params.has('id') || !params.has('auth_date')) {
    return null;
  }
  // Sent back exactly as Telegram signed them: strings.
  const fields: Record<string, string> = {};
  for (const key of ['id', 'first_name', 'last_name', 'username', 'photo_url', 'auth_date', 'hash']) {
    const value = params.get(key);
    if (value !== null) {
      fields[key] = value;
    }
  }
  return fields;
}

/** Puts the Telegram Login Widget into `container` (redirect mode: no inline callback needed). */
export function mountLoginWidget(container: HTMLElement, botUsername: string): void {
  const script = document.createElement('script');
  script.async = true;
  script.src = 'https://telegram.org/js/telegram-widget.js?22';
  script.dataset.telegramLogin = botUsername;
  script.dataset.size = 'large';
  script.dataset.authUrl = `${window.location.origin}/`;
  script.dataset.requestAccess = 'write';
  container.replaceChildren(script);
}
