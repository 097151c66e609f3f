import type { PageRoute } from '../route';
import { homePages } from './home';
import { planningPages } from './planning';
import { statsPages } from './stats';
import { planningAdminPages } from './admin-planning';
import { rightsPages } from './rights';
import { notificationPages } from './notifications';
import { availabilityPages } from './availability';
import { referentsPages } from './referents';
import { incidentPages } from './incidents';
import { incidentListPages } from './incident-lists';
import { labelPages } from './labels';
import { serviceClockPages } from './service-clock';

/** Every HTML page of the module. */
export const pageRoutes: PageRoute[] = [...homePages, ...planningPages, ...planningAdminPages, ...rightsPages, ...notificationPages, ...availabilityPages, ...referentsPages, ...incidentPages, ...incidentListPages, ...labelPages, ...serviceClockPages, ...statsPages];
