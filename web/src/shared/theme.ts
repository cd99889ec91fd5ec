// The colour theme a person picked: auto (system or Telegram), light or dark.

export type ThemeChoice = 'auto' | 'light' | 'dark';

const kThemeKey = 'evolveai.theme';

/** The stored choice ("auto" when none). */
export function themeChoice(): ThemeChoice {
  try {
    const value = localStorage.getItem(kThemeKey);
    return value === 'light' || value === 'dark' ? value : 'auto';
  } catch {
    return 'auto';
  }
}

/** Applies and stores a choice; "auto" leaves the theme to the system (or Telegram). */
export function setThemeChoice(choice: ThemeChoice, fallback?: 'light' | 'dark'): void {
  try {
    if (choice === 'auto') {
      localStorage.removeItem(kThemeKey);
    } else {
      localStorage.setItem(kThemeKey, choice);
    }
  } catch {
    // Not remembered, still applied.
  }
  applyTheme(choice, fallback);
}

/** Sets data-theme on the root element for a choice. */
export function applyTheme(choice: ThemeChoice, fallback?: 'light' | 'dark'): void {
  const root = document.documentElement;
  if (choice === 'auto') {
    if (fallback === undefined) {
      delete root.dataset.theme;
    } else {
      root.dataset.theme = fallback;
    }
  } else {
    root.dataset.theme = choice;
  }
}
