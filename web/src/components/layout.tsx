import { useState } from 'react';
import { Link, NavLink, Outlet, useNavigate } from 'react-router-dom';
import { asApiError, type ApiError } from '../api/client';
import { sections } from '../sections';
import { useSession } from '../session/session';
import { ErrorAlert } from './error-alert';

/** The signed-in frame: skip link, header with the operator and sign-out, navigation, main content. */
export function Layout() {
  const { me, can, signOut } = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<ApiError>();
  const visible = sections.filter((s) => !s.permission || can(s.permission));

  const onSignOut = async () => {
    try {
      await signOut();
      void navigate('/sign-in', { replace: true });
    } catch (e) {
      setError(asApiError(e));
    }
  };

  return (
    <div className="shell">
      <a
        className="skip-link"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to main content
      </a>
      <header className="app-header">
        <div className="header-row">
          <Link to="/" className="brand">
            Gatehouse
          </Link>
          <div className="who">
            <span>
              Signed in as <strong className="who-name">{me?.operator.displayName}</strong>
              <span className="who-user"> ({me?.operator.username})</span>
            </span>
            <button type="button" className="button-secondary" onClick={() => void onSignOut()}>
              Sign out
            </button>
          </div>
        </div>
        <nav aria-label="Main">
          <ul className="nav">
            <li>
              <NavLink to="/" end>
                Home
              </NavLink>
            </li>
            {visible.map((section) => (
              <li key={section.path}>
                <NavLink to={section.path}>{section.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorAlert error={error} title="Sign-out failed" />
        <Outlet />
      </main>
      <footer className="app-footer">
        <a href="/api/docs">API documentation</a>
      </footer>
    </div>
  );
}
