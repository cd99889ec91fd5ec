// Shapes of the admin API answers (../shared/API.md "Admin", /api/v1/openapi.json).

export interface AdminUser {
  id: number;
  telegram_id: number;
  first_name: string;
  last_name?: string | null;
  username?: string | null;
  language_code?: string | null;
  created_at: string;
  banned: boolean;
  premium: { active: boolean; until: string | null };
  usage: { messages_today: number; messages_30d?: number };
}

export interface Payment {
  id: number;
  charge_id: string;
  user_id: number;
  currency: string;
  amount: number;
  plan: string;
  days: number;
  status: string;
  created_at: string;
  refunded_at: string | null;
}

export interface UserDetail extends AdminUser {
  messages?: number;
  last_active_at?: string | null;
  memory?: { summary_chars: number; facts: number };
  payments?: Payment[];
}

export interface StatsDay {
  day: string;
  messages: number;
  active_users: number;
  new_users: number;
  stars_revenue: number;
  tokens_in: number;
  tokens_out: number;
  model_errors: number;
  p95_latency_ms: number | null;
}

export interface Stats {
  days: number;
  from: string;
  to: string;
  series: StatsDay[];
}

export interface Backup {
  name: string;
  dialect: string;
  bytes: number;
  created_at: string;
  sha256: string | null;
}

export interface AuditEntry {
  id: number;
  admin_id: number | null;
  action: string;
  target: string;
  details: unknown;
  created_at: string;
}

export interface FlagState {
  enabled: boolean;
  percentage: number;
}

