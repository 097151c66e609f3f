import type { PageRoute } from '../route';
import { homePages } from './home';
import { planningPages } from './planning';

/** Every HTML page of the module. */
export const pageRoutes: PageRoute[] = [...homePages, ...planningPages];
