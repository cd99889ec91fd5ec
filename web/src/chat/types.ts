// Shapes of the API answers the chat app reads (../shared/API.md, /api/v1/openapi.json).

export interface User {
  id: number;
  telegram_id: number;
  first_name: string;
  username?: string | null;
  language_code?: string | null;
}

export interface SignIn {
  access_token: string;
  token_type: string;
  expires_in: number;
  user: User;
}

export interface Settings {
  persona: string;
  reply_language: string;
  voice: string;
  voice_replies: boolean;
}

export interface Usage {
  messages_today: number;
  daily_limit: number | null;
  resets_at?: string;
}

export interface Profile extends User {
  last_name?: string | null;
  created_at?: string;
  premium: { active: boolean; until: string | null };
  usage: Usage;
  settings: Settings;
}

export interface Plan {
  id: string;
  days: number;
  price: { currency: string; amount: number };
}

export interface Premium {
  active: boolean;
  until: string | null;
  plans: Plan[];
}

export interface HistoryMessage {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  has_image: boolean;
  created_at: string;
}

export interface HistoryPage {
  messages: HistoryMessage[];
  next_before_id: number | null;
}

export interface SearchResult {
  message_id: number;
  role: 'user' | 'assistant';
  snippet: string;
  created_at: string;
  rank: number;
}

export interface Fact {
  id: string;
  text: string;
  pinned: boolean;
}

export interface Memory {
  summary: string;
  facts: Fact[];
  last_summarized_message_id: number;
}
