import type { ApiRoute } from '../route';
import { sessionRoutes } from './session';
import { equipmentReadRoutes } from './equipment';
import { accountRoutes } from './accounts';
import { bookingRoutes } from './bookings';
import { adminEquipmentRoutes } from './admin-equipment';
import { settingsRoutes } from './settings';
import { statsRoutes } from './stats';
import { rightsRoutes } from './rights';
import { notificationRoutes } from './notifications';
import { availabilityRoutes } from './availability';
import { incidentRoutes } from './incidents';
import { incidentListRoutes } from './incident-lists';
import { attachmentRoutes } from './attachments';
import { labelRoutes } from './labels';
import { serviceClockRoutes } from './service-clock';

/** Every JSON API route of the module, under /api/v1. The authorization matrix test walks this list. */
export const apiRoutes: ApiRoute[] = [...sessionRoutes, ...equipmentReadRoutes, ...accountRoutes, ...bookingRoutes, ...adminEquipmentRoutes, ...settingsRoutes, ...rightsRoutes, ...notificationRoutes, ...availabilityRoutes, ...incidentRoutes, ...incidentListRoutes, ...attachmentRoutes, ...labelRoutes, ...serviceClockRoutes, ...statsRoutes];
