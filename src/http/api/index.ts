import type { ApiRoute } from '../route';
import { sessionRoutes } from './session';
import { equipmentReadRoutes } from './equipment';
import { accountRoutes } from './accounts';
import { bookingRoutes } from './bookings';

/** Every JSON API route of the module, under /api/v1. The authorization matrix test walks this list. */
export const apiRoutes: ApiRoute[] = [...sessionRoutes, ...equipmentReadRoutes, ...accountRoutes, ...bookingRoutes];
