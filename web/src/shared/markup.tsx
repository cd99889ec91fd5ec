// Turning text from the model and the search engine into safe markup.
import DOMPurify from 'dompurify';
import { Marked } from 'marked';
import type { JSX } from 'preact';

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use inside HTML. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c] ?? c);
}

const markdown = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    // Raw HTML in a reply is shown as text, never interpreted.
    html({ text }) {
      return escapeHtml(text);
    },
  },
});

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
});

const purifyOptions = {
  ALLOWED_TAGS: [
    'p', 'br', 'strong', 'em', 'del', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a',
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span',
  ],
  ALLOWED_ATTR: ['href', 'title', 'class', 'target', 'rel', 'start', 'align'],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|tg:)/i,
};

/** Markdown (as the model writes it) to sanitised HTML: no scripts, no handlers, no raw HTML. */
export function renderMarkdown(text: string): string {
  const html = markdown.parse(text, { async: false });
  return DOMPurify.sanitize(html, purifyOptions);
}

/** A reply rendered from Markdown. */
export function Markdown(props: { text: string }): JSX.Element {
  return <div class="md" dangerouslySetInnerHTML={{ __html: renderMarkdown(props.text) }} />;
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#39': "'", '#x27': "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x?[0-9a-f]+|[a-z]+);/gi, (whole, name: string) => {
    const known = entities[name.toLowerCase()];
    if (known !== undefined) {
      return known;
    }
    if (name.startsWith('#x') || name.startsWith('#X')) {
      return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    }
    if (name.startsWith('#')) {
      return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    }
    return whole;
  });
}

/** A search snippet (escaped text with <mark>…</mark>) as text nodes and <mark> elements only. */
export function Snippet(props: { html: string }): JSX.Element {
  const parts: JSX.Element[] = [];
  const pattern = /<mark>([\s\S]*?)<\/mark>/g;
  let last = 0;
  let key = 0;
  for (let match = pattern.exec(props.html); match !== null; match = pattern.exec(props.html)) {
    if (match.index > last) {
      parts.push(<span key={key++}>{decodeEntities(props.html.slice(last, match.index))}</span>);
    }
    parts.push(<mark key={key++}>{decodeEntities(match[1] ?? '')}</mark>);
    last = match.index + match[0].length;
  }
  if (last < props.html.length) {
    parts.push(<span key={key++}>{decodeEntities(props.html.slice(last))}</span>);
  }
  return <span class="snippet">{parts}</span>;
}
