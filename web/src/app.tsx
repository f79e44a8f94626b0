import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { Layout } from './components/layout';
import { Loading } from './components/status';
import { HomePage } from './pages/home/home-page';
import { NotFoundPage } from './pages/not-found/not-found-page';
import { SignInPage } from './pages/sign-in/sign-in-page';
import { sections } from './sections';
import { SessionProvider, useSession } from './session/session';

/** Pages behind sign-in: without a session, go to sign-in and come back here afterwards. */
function RequireSession() {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === 'loading') return <Loading label="Checking your session…" />;
  if (state.status === 'signed-out') {
    // after an explicit sign-out, start afresh; otherwise come back here after signing in
    const here = `${location.pathname}${location.search}`;
    const next = state.reason === 'signed-out' || here === '/' ? '' : `?next=${encodeURIComponent(here)}`;
    return <Navigate to={`/sign-in${next}`} replace />;
  }
  return <Layout />;
}

export function App() {
  return (
    <BrowserRouter>
      <SessionProvider>
        <Routes>
          <Route path="/sign-in" element={<SignInPage />} />
          <Route element={<RequireSession />}>
            <Route index element={<HomePage />} />
            {sections.map((section) => (
              <Route key={section.path} path={`${section.path}/*`} element={section.element} />
            ))}
            <Route path="*" element={<NotFoundPage />} />
          </Route>
        </Routes>
      </SessionProvider>
    </BrowserRouter>
  );
}
