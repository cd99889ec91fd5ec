// Every error code of the API (../shared/API.md "Errors") in words a person understands.
import { ApiError } from './api';
import { formatClock, formatWait } from './format';

/** What a person should read for an error; never the bare code. */
export function describeError(error: unknown, now: Date = new Date()): string {
  if (!(error instanceof ApiError)) {
    return 'Something went wrong in the app. Please reload the page and try again.';
  }
  switch (error.code) {
    case 'network':
      return "Can't reach EvolveAI. Check your internet connection and try again.";
    case 'bad_request':
    case 'invalid_json':
      return "That request didn't look right. Please try again.";
    case 'validation_failed':
      return `Please check what you entered${fieldName(error.field)}: ${sentence(error.message)}`;
    case 'payload_too_large':
      return 'That is too large to send. Images can be up to 10 MB.';
    case 'unsupported_media_type':
      return 'That file type is not supported. Please use a JPEG, PNG, WebP or GIF image.';
    case 'unauthorized':
      return 'Please sign in again.';
    case 'token_expired':
      return 'Your session has expired. Please sign in again.';
    case 'forbidden':
      return 'You are not allowed to do this. If your account was blocked, please contact the operator.';
    case 'not_found':
      return 'That could not be found. It may have been deleted.';
    case 'conflict':
      return 'That changed in the meantime. Please reload and try again.';
    case 'rate_limited':
      return error.retryAfter !== undefined
        ? `You're going a little fast. Please try again in ${formatWait(error.retryAfter)}.`
        : "You're going a little fast. Please wait a moment and try again.";
    case 'quota_exceeded':
      return quotaText(error, now);
    case 'premium_required':
      return 'This needs Premium: the free allowance for today is used up. Get Premium to keep going.';
    case 'llm_not_configured':
      return "The assistant isn't set up yet: the operator has not configured a language model.";
    case 'upstream_unavailable':
      return 'The assistant is not answering right now. Please try again in a moment.';
    case 'service_unavailable':
      return error.retryAfter !== undefined
        ? `The service is busy. Please try again in ${formatWait(error.retryAfter)}.`
        : 'The service is busy right now. Please try again shortly.';
    case 'signup_closed':
      return 'New sign-ups are paused at the moment. Please try again later.';
    case 'bot_not_configured':
      return "Payments aren't available yet: the operator has not set up the Telegram bot.";
    case 'refunds_unavailable':
      return 'Refunds are not available: the Telegram bot is not set up on this server.';
    case 'method_not_allowed':
      return "That action isn't possible here.";
    case 'header_too_large':
      return 'The request was too large. Please sign in again and retry.';
    case 'internal':
      return 'Something went wrong on our side. Please try again.';
    default:
      return statusText(error.status);
  }
}

function quotaText(error: ApiError, now: Date): string {
  const base = "You've used all your free messages for today.";
  if (error.resetsAt === undefined) {
    return `${base} Get Premium for unlimited messages.`;
  }
  const resets = new Date(error.resetsAt);
  const seconds = Math.max(0, Math.round((resets.getTime() - now.getTime()) / 1000));
  return `${base} More are available at ${formatClock(resets)} (in ${formatWait(seconds)}), or get Premium for unlimited messages.`;
}

function fieldName(field: string | undefined): string {
  if (field === undefined || field === '') {
    return '';
  }
  const last = field.split('.').pop() ?? field;
  return ` (${last.replace(/_/g, ' ')})`;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') {
    return 'the value is not valid.';
  }
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function statusText(status: number): string {
  if (status >= 500) {
    return 'Something went wrong on our side. Please try again.';
  }
  if (status === 429) {
    return "You're going a little fast. Please wait a moment and try again.";
  }
  return 'That did not work. Please try again.';
}
