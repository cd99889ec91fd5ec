// What the companion remembers: the rolling summary and the facts, which a person can add,
// edit, pin (summaries never drop a pinned fact) and delete.
import type { JSX } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../shared/api';
import { describeError } from '../shared/errors';
import { PinIcon } from '../shared/icons';
import type { Fact, Memory } from './types';

export function MemoryView(props: { api: ApiClient }): JSX.Element {
  const { api } = props;
  const [memory, setMemory] = useState<Memory | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [newFact, setNewFact] = useState('');
  const [editing, setEditing] = useState<{ id: string; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async (): Promise<void> => {
    try {
      setMemory(await api.get<Memory>('/api/v1/memory'));
    } catch (failure) {
      setError(describeError(failure));
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  const act = async (work: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await work();
      await load();
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  const togglePin = (fact: Fact): Promise<void> =>
    act(async () => {
      await api.patch<Fact>(`/api/v1/memory/facts/${encodeURIComponent(fact.id)}`, { pinned: !fact.pinned });
    });

  const remove = (fact: Fact): Promise<void> =>
    act(async () => {
      await api.delete(`/api/v1/memory/facts/${encodeURIComponent(fact.id)}`);
    });

  // A fact's text changes by replacing it; its pin is kept.
  const saveEdit = (fact: Fact, text: string): Promise<void> =>
    act(async () => {
      const trimmed = text.trim();
      if (trimmed === '' || trimmed === fact.text) {
        setEditing(null);
        return;
      }
      await api.post<Fact>('/api/v1/memory/facts', { text: trimmed, pinned: fact.pinned });
      await api.delete(`/api/v1/memory/facts/${encodeURIComponent(fact.id)}`);
      setEditing(null);
    });

  const add = (): Promise<void> =>
    act(async () => {
      const text = newFact.trim();
      if (text === '') {
        return;
      }
      await api.post<Fact>('/api/v1/memory/facts', { text, pinned: false });
      setNewFact('');
    });

  return (
    <section class="page" aria-labelledby="memory-title">
      <h1 id="memory-title">What I remember</h1>
      {error !== null ? (
        <div class="error-box" role="alert">
          {error}
        </div>
      ) : null}
      {memory === null && error === null ? <p class="muted">Loading…</p> : null}
      {memory !== null ? (
        <>
          <div class="card">
            <h2>Summary</h2>
            <p>{memory.summary === '' ? 'Nothing summarised yet: keep chatting.' : memory.summary}</p>
          </div>
          <div class="card">
            <h2>Facts</h2>
            {memory.facts.length === 0 ? <p class="muted">No facts yet.</p> : null}
            <ul class="facts">
              {memory.facts.map((fact) => (
                <li key={fact.id} class={`fact${fact.pinned ? ' pinned' : ''}`} data-fact-id={fact.id}>
                  {editing?.id === fact.id ? (
                    <form
                      class="row grow"
                      onSubmit={(event) => {
                        event.preventDefault();
                        void saveEdit(fact, editing.text);
                      }}
                    >
                      <label class="visually-hidden" for={`fact-edit-${fact.id}`}>
                        Fact text
                      </label>
                      <input
                        id={`fact-edit-${fact.id}`}
                        class="grow"
                        value={editing.text}
                        maxLength={500}
                        onInput={(event) =>
                          setEditing({ id: fact.id, text: (event.currentTarget as HTMLInputElement).value })
                        }
                      />
                      <button type="submit" disabled={busy}>
                        Save
                      </button>
                      <button type="button" class="link" onClick={() => setEditing(null)}>
                        Cancel
                      </button>
                    </form>
                  ) : (
                    <>
                      <span class="fact-text grow">
                        {fact.pinned ? <PinIcon /> : null} 
                        {fact.text}
                      </span>
                      <button
                        type="button"
                        class="pin"
                        aria-pressed={fact.pinned}
                        aria-label={`${fact.pinned ? 'Unpin' : 'Pin'} “${fact.text}”`}
                        disabled={busy}
                        onClick={() => void togglePin(fact)}
                      >
                        {fact.pinned ? 'Unpin' : 'Pin'}
                      </button>
                      <button
                        type="button"
                        aria-label={`Edit “${fact.text}”`}
                        disabled={busy}
                        onClick={() => setEditing({ id: fact.id, text: fact.text })}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        class="danger"
                        aria-label={`Delete “${fact.text}”`}
                        disabled={busy}
                        onClick={() => void remove(fact)}
                      >
                        Delete
                      </button>
                    </>
                  )}
                </li>
              ))}
            </ul>
            <form
              class="row"
              onSubmit={(event) => {
                event.preventDefault();
                void add();
              }}
            >
              <label for="new-fact" class="visually-hidden">
                New fact
              </label>
              <input
                id="new-fact"
                class="grow"
                maxLength={500}
                placeholder="Something I should know about you"
                value={newFact}
                onInput={(event) => setNewFact((event.currentTarget as HTMLInputElement).value)}
              />
              <button type="submit" disabled={busy || newFact.trim() === ''}>
                Add fact
              </button>
            </form>
          </div>
        </>
      ) : null}
    </section>
  );
}
