import { Link } from 'react-router-dom';
import { Page } from '../../components/page';
import { sections } from '../../sections';
import { useSession } from '../../session/session';

/** The start page: what the operator can do here. */
export function HomePage() {
  const { me, can } = useSession();
  const mine = sections.filter((s) => !s.permission || can(s.permission));
  return (
    <Page title={`Welcome, ${me?.operator.displayName ?? ''}`}>
      <p>
        Your roles: <strong>{me?.roles.join(', ') || 'none'}</strong>.
      </p>
      {mine.length === 0 ? (
        <p>Your roles give you no section here yet. Ask an administrator for a role.</p>
      ) : (
        <ul className="cards">
          {mine.map((section) => (
            <li key={section.path} className="card">
              <h2>
                <Link to={section.path}>{section.label}</Link>
              </h2>
              <p>{section.description}</p>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
