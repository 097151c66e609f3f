/**
 * Who may do what to which record, beyond the route's one secured action. Pure functions of values, so that every
 * rule is unit-tested without a database.
 */
export interface Actor {
  id: string;
  /** The actor's actions in the record's structure. */
  actions: string[];
}

export const BOOKING_MANAGER_ACTIONS = ['booking.validate', 'module.configure'] as const;

/** A referent (validator) or the school admin manages every booking of the school. */
export function managesBookings(actor: Actor): boolean {
  return BOOKING_MANAGER_ACTIONS.some((a) => actor.actions.includes(a));
}

/** One's own booking, or any for a referent/admin. */
export function mayCancelBooking(actor: Actor, booking: { ownerId: string; status: string }): boolean {
  return booking.ownerId === actor.id || managesBookings(actor);
}

/** Owners' names are shown to managers, to the owner, and to everyone when the school chose so (the default). */
export function maySeeBookingOwner(actor: Actor, booking: { ownerId: string }, schoolShowsOwners: boolean): boolean {
  return booking.ownerId === actor.id || managesBookings(actor) || schoolShowsOwners;
}
