// The route table: every page of the app, the permission (a row of the API's
// permission table, as GET /api/v1/me lists them) that shows it in the navigation,
// and its component, loaded on first visit so that the first screen stays small.
// A feature with several pages lives in its own folder under pages/ and adds its
// rows here (the visual flow editor: flows/).
import { lazy, type ComponentType, type LazyExoticComponent } from 'react'
import type { Params } from '../lib/router'

export interface RouteDef {
  path: string
  perm: string | null
  component: LazyExoticComponent<ComponentType<{ params: Params }>>
  /** shown in the navigation under group when set */
  nav?: { label: string; group: string }
}

const Dashboard = lazy(() => import('../pages/Dashboard'))
const Explorer = lazy(() => import('../pages/data/Explorer'))
const ProfilePage = lazy(() => import('../pages/data/ProfilePage'))
const SessionPage = lazy(() => import('../pages/data/SessionPage'))
const EventPage = lazy(() => import('../pages/data/EventPage'))
const ResourceList = lazy(() => import('../pages/config/ResourceList'))
const ResourceEdit = lazy(() => import('../pages/config/ResourceEdit'))
const Users = lazy(() => import('../pages/admin/Users'))
const Audit = lazy(() => import('../pages/admin/Audit'))
const Jobs = lazy(() => import('../pages/admin/Jobs'))
const System = lazy(() => import('../pages/admin/System'))
const Account = lazy(() => import('../pages/admin/Account'))
const FlowsList = lazy(() => import('../flows/FlowsList'))
const FlowEditor = lazy(() => import('../flows/FlowEditor'))

export const routes: RouteDef[] = [
  { path: '/', perm: null, component: Dashboard, nav: { label: 'Dashboard', group: 'Insight' } },
  { path: '/profiles', perm: 'data-read', component: Explorer, nav: { label: 'Profiles', group: 'Data' } },
  { path: '/profiles/:id', perm: 'data-read', component: ProfilePage },
  { path: '/sessions', perm: 'data-read', component: Explorer, nav: { label: 'Sessions', group: 'Data' } },
  { path: '/sessions/:id', perm: 'data-read', component: SessionPage },
  { path: '/events', perm: 'data-read', component: Explorer, nav: { label: 'Events', group: 'Data' } },
  { path: '/events/:id', perm: 'data-read', component: EventPage },
  { path: '/config/:kind', perm: null, component: ResourceList },
  { path: '/config/:kind/:id', perm: null, component: ResourceEdit },
  { path: '/flows', perm: 'flows', component: FlowsList, nav: { label: 'Flows', group: 'Automation' } },
  { path: '/flows/:id', perm: 'flows', component: FlowEditor },
  { path: '/users', perm: 'users', component: Users, nav: { label: 'Users', group: 'Admin' } },
  { path: '/audit', perm: 'audit', component: Audit, nav: { label: 'Audit log', group: 'Admin' } },
  { path: '/jobs', perm: 'jobs', component: Jobs, nav: { label: 'Jobs', group: 'Admin' } },
  { path: '/system', perm: 'system', component: System, nav: { label: 'System', group: 'Admin' } },
  { path: '/account', perm: null, component: Account },
]
