import type { PageRoute } from '../route';
import { homePages } from './home';
import { planningPages } from './planning';
import { planningAdminPages } from './admin-planning';
import { referentsPages } from './referents';

/** Every HTML page of the module. */
export const pageRoutes: PageRoute[] = [...homePages, ...planningPages, ...planningAdminPages, ...referentsPages];
