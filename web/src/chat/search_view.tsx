// Full-text search in one's own messages, matches highlighted.
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { ApiClient } from '../shared/api';
import { describeError } from '../shared/errors';
import { formatDateTime } from '../shared/format';
import { Snippet } from '../shared/markup';
import type { SearchResult } from './types';

export function SearchView(props: { api: ApiClient }): JSX.Element {
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const search = async (): Promise<void> => {
    const q = query.trim();
    if (q === '') {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await props.api.get<{ results: SearchResult[] }>(
        `/api/v1/search?q=${encodeURIComponent(q.slice(0, 200))}&limit=20`,
      );
      setResults(answer.results);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="page" aria-labelledby="search-title">
      <h1 id="search-title">Search your conversations</h1>
      <form
        class="row"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          void search();
        }}
      >
        <label for="search-input" class="visually-hidden">
          Search text
        </label>
        <input
          id="search-input"
          type="search"
          class="grow"
          maxLength={200}
          placeholder="Words to find"
          value={query}
          onInput={(event) => setQuery((event.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit" class="primary" disabled={busy || query.trim() === ''}>
          Search
        </button>
      </form>
      {error !== null ? (
        <div class="error-box" role="alert">
          {error}
        </div>
      ) : null}
      {results !== null && results.length === 0 ? <p class="muted">Nothing found.</p> : null}
      {results !== null && results.length > 0 ? (
        <ol class="results" aria-label="Search results">
          {results.map((result) => (
            <li key={result.message_id} class="card result">
              <div class="row muted small">
                <span class="badge">{result.role === 'user' ? 'You' : 'EvolveAI'}</span>
                <time dateTime={result.created_at}>{formatDateTime(result.created_at)}</time>
              </div>
              <p>
                <Snippet html={result.snippet} />
              </p>
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
