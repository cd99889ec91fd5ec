// The conversation: history with infinite scroll upwards, a composer with image attach, replies
// streamed in as they arrive, and voice playback of any reply.
import type { JSX } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError, readEventStream, type ApiClient } from '../shared/api';
import { describeError } from '../shared/errors';
import { formatDateTime } from '../shared/format';
import { CloseIcon, PaperclipIcon, SpeakerIcon, StopIcon } from '../shared/icons';
import { Markdown } from '../shared/markup';
import { PremiumOffer } from './premium_offer';
import type { MiniApp } from './telegram';
import type { HistoryMessage, HistoryPage, Profile, Usage } from './types';

/** The largest image the server takes (decoded), checked here before sending. */
export const kMaxImageBytes = 10 * 1024 * 1024;
const kImageTypes = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'];
const kPageSize = 30;
const kMaxSpeechChars = 1000;

interface ChatMessage {
  key: string;
  id: number | null;
  role: 'user' | 'assistant';
  content: string;
  createdAt: string;
  hasImage: boolean;
  imageUrl?: string;
  streaming?: boolean;
  error?: string;
}

interface Attachment {
  name: string;
  mimeType: string;
  base64: string;
  previewUrl: string;
}

let keyCounter = 0;
function nextKey(): string {
  keyCounter += 1;
  return `m${keyCounter}`;
}

function fromHistory(message: HistoryMessage): ChatMessage {
  return {
    key: `h${message.id}`,
    id: message.id,
    role: message.role,
    content: message.content,
    createdAt: message.created_at,
    hasImage: message.has_image,
  };
}

function clientMessageId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `c-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function readAsBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener('load', () => {
      const url = String(reader.result);
      resolve(url.slice(url.indexOf(',') + 1));
    });
    reader.addEventListener('error', () => reject(reader.error ?? new Error('read failed')));
    reader.readAsDataURL(file);
  });
}

export function ChatView(props: {
  api: ApiClient;
  profile: Profile;
  miniApp: MiniApp | null;
  onUsage: (usage: Usage) => void;
  onOpenAccount: () => void;
  onPremiumChange: () => void;
}): JSX.Element {
  const { api, profile, onUsage } = props;
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [nextBeforeId, setNextBeforeId] = useState<number | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [historyError, setHistoryError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [text, setText] = useState('');
  const [attachment, setAttachment] = useState<Attachment | null>(null);
  const [composerError, setComposerError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const [quotaOffer, setQuotaOffer] = useState(false);
  const [speaking, setSpeaking] = useState<string | null>(null);
  const [playing, setPlaying] = useState<string | null>(null);
  const [speechError, setSpeechError] = useState<{ key: string; text: string } | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const audio = useRef<HTMLAudioElement | null>(null);
  const keepOffset = useRef<number | null>(null);
  const stickToBottom = useRef(true);

  const loadPage = useCallback(
    async (beforeId: number | null): Promise<void> => {
      setLoadingOlder(true);
      setHistoryError(null);
      try {
        const query = beforeId === null ? `limit=${kPageSize}` : `before_id=${beforeId}&limit=${kPageSize}`;
        const page = await api.get<HistoryPage>(`/api/v1/history?${query}`);
        const older = page.messages.map(fromHistory).reverse();
        const box = scroller.current;
        keepOffset.current = beforeId !== null && box !== null ? box.scrollHeight - box.scrollTop : null;
        setMessages((current) => [...older, ...current]);
        setNextBeforeId(page.next_before_id);
      } catch (failure) {
        setHistoryError(describeError(failure));
      } finally {
        setLoadingOlder(false);
        setLoaded(true);
      }
    },
    [api],
  );

  useEffect(() => {
    void loadPage(null);
  }, [loadPage]);

  // Older messages arrive above: keep what the reader looks at in place; new ones follow the bottom.
  useLayoutEffect(() => {
    const box = scroller.current;
    if (box === null) {
      return;
    }
    if (keepOffset.current !== null) {
      box.scrollTop = box.scrollHeight - keepOffset.current;
      keepOffset.current = null;
    } else if (stickToBottom.current) {
      box.scrollTop = box.scrollHeight;
    }
  }, [messages]);

  const onScroll = (): void => {
    const box = scroller.current;
    if (box === null) {
      return;
    }
    stickToBottom.current = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    if (box.scrollTop < 80 && nextBeforeId !== null && !loadingOlder) {
      void loadPage(nextBeforeId);
    }
  };

  const stopAudio = (): void => {
    audio.current?.pause();
    audio.current = null;
    setSpeaking(null);
    setPlaying(null);
  };

  useEffect(() => stopAudio, []);

  const speak = async (message: ChatMessage): Promise<void> => {
    if (speaking === message.key) {
      stopAudio();
      return;
    }
    stopAudio();
    setSpeechError(null);
    setSpeaking(message.key);
    try {
      const player = new Audio();
      const format = player.canPlayType('audio/ogg; codecs=opus') !== '' ? 'ogg' : 'wav';
      const sound = await api.blob('POST', '/api/v1/tts', {
        text: message.content.slice(0, kMaxSpeechChars),
        voice: profile.settings.voice,
        format,
      });
      const url = URL.createObjectURL(sound);
      player.src = url;
      player.dataset.messageKey = message.key;
      player.addEventListener('playing', () => setPlaying(message.key));
      player.addEventListener('ended', () => {
        URL.revokeObjectURL(url);
        setSpeaking((current) => (current === message.key ? null : current));
        setPlaying((current) => (current === message.key ? null : current));
      });
      audio.current = player;
      await player.play();
    } catch (failure) {
      setSpeaking(null);
      const words =
        failure instanceof DOMException
          ? 'This device could not play the voice reply.'
          : describeError(failure);
      setSpeechError({ key: message.key, text: words });
    }
  };

  const pickImage = async (event: Event): Promise<void> => {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    setComposerError(null);
    if (file === undefined) {
      return;
    }
    if (!kImageTypes.includes(file.type)) {
      setComposerError('Please choose a JPEG, PNG, WebP or GIF image.');
      return;
    }
    if (file.size > kMaxImageBytes) {
      const megabytes = (file.size / (1024 * 1024)).toFixed(1);
      setComposerError(`That image is ${megabytes} MB; images can be up to 10 MB.`);
      return;
    }
    try {
      const base64 = await readAsBase64(file);
      setAttachment({ name: file.name, mimeType: file.type, base64, previewUrl: URL.createObjectURL(file) });
    } catch {
      setComposerError('That image could not be read. Please try another one.');
    }
  };

  const patch = (key: string, change: Partial<ChatMessage>): void => {
    setMessages((current) => current.map((m) => (m.key === key ? { ...m, ...change } : m)));
  };

  const send = async (): Promise<void> => {
    const message = text.trim();
    if (message === '' || sending) {
      return;
    }
    setSending(true);
    setComposerError(null);
    setQuotaOffer(false);
    stickToBottom.current = true;
    const userKey = nextKey();
    const replyKey = nextKey();
    const now = new Date().toISOString();
    const image = attachment;
    setMessages((current) => [
      ...current,
      {
        key: userKey,
        id: null,
        role: 'user',
        content: message,
        createdAt: now,
        hasImage: image !== null,
        imageUrl: image?.previewUrl,
      },
      { key: replyKey, id: null, role: 'assistant', content: '', createdAt: now, hasImage: false, streaming: true },
    ]);
    setText('');
    setAttachment(null);
    const body: Record<string, unknown> = { message, client_message_id: clientMessageId(), stream: true };
    if (image !== null) {
      body.image = { mime_type: image.mimeType, data: image.base64 };
    }
    let reply = '';
    let finished = false;
    try {
      const response = await api.raw('POST', '/api/v1/chat', body, { Accept: 'text/event-stream' });
      await readEventStream(response, (event) => {
        let data: Record<string, unknown> = {};
        try {
          data = JSON.parse(event.data) as Record<string, unknown>;
        } catch {
          return;
        }
        if (event.event === 'start' && typeof data.user_message_id === 'number') {
          patch(userKey, { id: data.user_message_id });
        } else if (event.event === 'delta' && typeof data.text === 'string') {
          reply += data.text;
          patch(replyKey, { content: reply });
        } else if (event.event === 'end') {
          finished = true;
          patch(replyKey, {
            streaming: false,
            id: typeof data.message_id === 'number' ? data.message_id : null,
            createdAt: new Date().toISOString(),
          });
          if (typeof data.usage === 'object' && data.usage !== null) {
            onUsage(data.usage as Usage);
          }
        } else if (event.event === 'error') {
          finished = true;
          const failure = new ApiError({
            status: 200,
            code: typeof data.code === 'string' ? data.code : 'internal',
            message: typeof data.message === 'string' ? data.message : '',
          });
          patch(replyKey, { streaming: false, error: describeError(failure) });
        }
      });
      if (!finished) {
        patch(replyKey, {
          streaming: false,
          error: 'The reply was cut off. Your message is saved; please try again.',
        });
      }
    } catch (failure) {
      setMessages((current) => current.filter((m) => m.key !== replyKey));
      patch(userKey, { error: describeError(failure) });
      if (failure instanceof ApiError && failure.code === 'quota_exceeded') {
        setQuotaOffer(true);
      }
    } finally {
      setSending(false);
    }
    if (finished && reply !== '' && profile.settings.voice_replies) {
      void speak({ key: replyKey, id: null, role: 'assistant', content: reply, createdAt: now, hasImage: false });
    }
  };

  const onKeyDown = (event: KeyboardEvent): void => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void send();
    }
  };

  const usage = profile.usage;
  const left = usage.daily_limit === null ? null : Math.max(0, usage.daily_limit - usage.messages_today);

  return (
    <div class="chat">
      <div
        class="messages"
        ref={scroller}
        onScroll={onScroll}
        role="log"
        aria-live="polite"
        aria-label="Conversation"
        tabIndex={0}
      >
        {loadingOlder ? <p class="muted center-text">Loading earlier messages…</p> : null}
        {nextBeforeId === null && loaded && messages.length > 0 ? (
          <p class="muted center-text">This is the beginning of your conversation.</p>
        ) : null}
        {historyError !== null ? (
          <div class="error-box" role="alert">
            {historyError}{' '}
            <button type="button" class="link" onClick={() => void loadPage(nextBeforeId)}>
              Try again
            </button>
          </div>
        ) : null}
        {loaded && messages.length === 0 && historyError === null ? (
          <div class="empty">
            <h2>Hi {profile.first_name}!</h2>
            <p class="muted">Tell me about your day, ask anything, or send a photo.</p>
          </div>
        ) : null}
        {messages.map((message) => (
          <article
            key={message.key}
            class={`bubble ${message.role}${message.streaming ? ' streaming' : ''}`}
            data-message-id={message.id ?? undefined}
            aria-label={message.role === 'user' ? 'You said' : 'EvolveAI said'}
          >
            {message.imageUrl !== undefined ? (
              <img class="attached" src={message.imageUrl} alt="Attached image" />
            ) : message.hasImage ? (
              <p class="muted image-note">
                <PaperclipIcon /> Image attached
              </p>
            ) : null}
            {message.role === 'assistant' ? (
              message.content === '' && message.streaming ? (
                <p class="typing" aria-label="EvolveAI is typing">
                  <span />
                  <span />
                  <span />
                </p>
              ) : (
                <Markdown text={message.content} />
              )
            ) : (
              <p class="plain">{message.content}</p>
            )}
            {message.error !== undefined ? (
              <p class="bubble-error" role="alert">
                {message.error}
              </p>
            ) : null}
            <footer class="meta">
              <time dateTime={message.createdAt}>{formatDateTime(message.createdAt)}</time>
              {message.role === 'assistant' && !message.streaming && message.content !== '' ? (
                <button
                  type="button"
                  class="link speak"
                  aria-pressed={speaking === message.key}
                  data-playing={playing === message.key ? 'true' : undefined}
                  onClick={() => void speak(message)}
                >
                  {speaking !== message.key ? (
                    <>
                      <SpeakerIcon /> Listen
                    </>
                  ) : playing === message.key ? (
                    <>
                      <StopIcon /> Stop
                    </>
                  ) : (
                    'Loading voice…'
                  )}
                </button>
              ) : null}
            </footer>
            {speechError !== null && speechError.key === message.key ? (
              <p class="bubble-error" role="alert">
                {speechError.text}
              </p>
            ) : null}
          </article>
        ))}
        {quotaOffer ? (
          <PremiumOffer api={api} miniApp={props.miniApp} onPaid={props.onPremiumChange} />
        ) : null}
      </div>
      <form
        class="composer"
        onSubmit={(event) => {
          event.preventDefault();
          void send();
        }}
      >
        {attachment !== null ? (
          <div class="attachment">
            <img src={attachment.previewUrl} alt="" />
            <span>{attachment.name}</span>
            <button type="button" class="link" onClick={() => setAttachment(null)} aria-label="Remove the image">
              <CloseIcon />
            </button>
          </div>
        ) : null}
        {composerError !== null ? (
          <div class="error-box" role="alert">
            {composerError}
          </div>
        ) : null}
        <div class="composer-row">
          <input
            ref={fileInput}
            id="attach-input"
            class="visually-hidden"
            type="file"
            accept={kImageTypes.join(',')}
            onChange={(event) => void pickImage(event)}
          />
          <button type="button" class="attach" aria-label="Attach an image" onClick={() => fileInput.current?.click()}>
            <PaperclipIcon />
          </button>
          <label for="message-input" class="visually-hidden">
            Message
          </label>
          <textarea
            id="message-input"
            rows={1}
            maxLength={8000}
            placeholder="Message EvolveAI"
            value={text}
            onInput={(event) => setText((event.currentTarget as HTMLTextAreaElement).value)}
            onKeyDown={onKeyDown}
          />
          <button type="submit" class="primary send" disabled={sending || text.trim() === ''}>
            Send
          </button>
        </div>
        <p class="usage-line muted">
          {left === null ? (
            'Premium: unlimited messages'
          ) : (
            <>
              {left} of {usage.daily_limit} free messages left today ·{' '}
              <button type="button" class="link" onClick={props.onOpenAccount}>
                Get Premium
              </button>
            </>
          )}
        </p>
      </form>
    </div>
  );
}
