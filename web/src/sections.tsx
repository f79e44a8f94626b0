import type { ReactElement } from 'react';
import { AccessPage } from './pages/access/access-page';
import { ApprovalsPage } from './pages/approvals/approvals-page';
import { AuditPage } from './pages/audit/audit-page';
import { InventoryPage } from './pages/inventory/inventory-page';
import { NetworkPage } from './pages/network/network-page';
import { RequestPage } from './pages/request/request-page';

/**
 * The back-office's sections: the header's navigation, the home page's cards and the routes come from
 * this one list. A page lives in web/src/pages/<page>/; to add yours, replace its placeholder element
 * (or add an entry). `permission` hides the section from operators whose roles do not grant it.
 */
export interface Section {
  path: string;
  label: string;
  description: string;
  permission?: string;
  element: ReactElement;
}

export const sections: Section[] = [
  {
    path: '/request',
    label: 'Request access',
    description: 'Ask for temporary access to a server or database, for a ticket.',
    permission: 'access:request',
    element: <RequestPage />,
  },
  {
    path: '/access',
    label: 'My access',
    description: 'Your requests and grants: reveal a credential, extend or revoke.',
    permission: 'access:request',
    element: <AccessPage />,
  },
  {
    path: '/approvals',
    label: 'Approvals',
    description: 'Requests waiting for your review.',
    permission: 'access:review',
    element: <ApprovalsPage />,
  },
  {
    path: '/inventory',
    label: 'Inventory',
    description: 'Customers, environments, assets and jumpboxes.',
    permission: 'inventory:read',
    element: <InventoryPage />,
  },
  {
    path: '/network',
    label: 'Network rules',
    description: "Customers' network rules: checks, plan preview and apply.",
    permission: 'network:read',
    element: <NetworkPage />,
  },
  {
    path: '/audit',
    label: 'Audit',
    description: 'The audit log: search, event detail, export and chain verification.',
    permission: 'audit:read',
    element: <AuditPage />,
  },
];
