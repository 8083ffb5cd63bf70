// /login[?next=PATH]: asks for the hub's token (DIR/token), checks it against the hub and keeps
// it in this browser's localStorage.
import { useState } from 'preact/hooks';
import { ApiError, api, storeToken } from '../api';
import { navigate } from '../router';

export function LoginPage({ next }: { next: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return setError('Paste the token first.');
    setBusy(true);
    setError('');
    try {
      await api.check(t);
      storeToken(t);
      navigate(next.startsWith('/') && !next.startsWith('/login') ? next : '/');
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? `The hub refused this token: ${err.message}.`
          : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="page narrow login">
      <h2>Sign in to the hub</h2>
      <p class="muted">
        The token is in the hub's state directory: <code>cat DIR/token</code> (by default{' '}
        <code>~/.local/state/hubspoke/token</code>). It is kept in this browser only.
      </p>
      <form onSubmit={submit}>
        <input
          name="token"
          type="password"
          autoComplete="current-password"
          placeholder="token"
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          autoFocus
        />
        <button class="primary" type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
      {error && <p class="error">{error}</p>}
    </div>
  );
}
