import type { PageRoute } from '../route';
import { homePages } from './home';

/** Every HTML page of the module. */
export const pageRoutes: PageRoute[] = [...homePages];
