import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { setUnauthenticatedHandler, storeToken, storedToken } from './api';
import { ListPage } from './pages/List';
import { LoginPage } from './pages/Login';
import { SpokesPage } from './pages/Spokes';
import { SubmitPage } from './pages/Submit';
import { WorkflowPage } from './pages/Workflow';
import { navigate, useLocation } from './router';
import './style.css';

const NS = 'default';

// Any 401 from the hub means the stored token is missing or wrong: ask for one.
setUnauthenticatedHandler(() => {
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname !== '/login') navigate(`/login?next=${encodeURIComponent(here)}`);
});

function decode(s: string) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function Page() {
  const { path, query } = useLocation();
  const parts = path.split('/').filter(Boolean).map(decode);
  if (path === '/' || (parts[0] === 'workflows' && parts.length <= 2)) {
    return <ListPage key={parts[1] ?? NS} ns={parts[1] ?? NS} query={query} />;
  }
  if (parts[0] === 'workflows' && parts.length === 3) {
    return <WorkflowPage ns={parts[1]} name={parts[2]} node={query.get('node') ?? ''} />;
  }
  if (path === '/spokes') return <SpokesPage />;
  if (path === '/submit') return <SubmitPage ns={NS} query={query} />;
  if (path === '/login') return <LoginPage next={query.get('next') ?? '/'} />;
  return (
    <div class="page">
      <p class="error">There is no page at {path}.</p>
      <p>
        <a href="/">Go to the workflows</a>
      </p>
    </div>
  );
}

function App() {
  const { path } = useLocation();
  const [signedIn, setSignedIn] = useState(storedToken() !== '');
  useEffect(() => setSignedIn(storedToken() !== ''), [path]);
  const section = path.startsWith('/spokes') ? 'spokes' : path.startsWith('/submit') ? 'submit' : 'workflows';
  return (
    <>
      <header class="top">
        <a class="brand" href="/">
          hubspoke
        </a>
        <nav>
          <a class={section === 'workflows' ? 'on' : ''} href="/">
            Workflows
          </a>
          <a class={section === 'spokes' ? 'on' : ''} href="/spokes">
            Spokes
          </a>
          <a class={section === 'submit' ? 'on' : ''} href="/submit">
            Submit
          </a>
        </nav>
        {signedIn && path !== '/login' && (
          <button
            class="link"
            onClick={() => {
              storeToken('');
              navigate('/login');
            }}
          >
            Sign out
          </button>
        )}
      </header>
      <main>
        <Page />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
