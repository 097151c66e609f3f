import { describeE2E, E2E, VARIANTS, nextTuesday, declareFromQrLink, decodeLabelQr, PROJECTOR, UserPage, escapeRegExp, equipmentIdByName } from './support';

/* The functions given to page.evaluate run in the browser. The project is type-checked without the DOM library (it is
   server code), so the few browser globals they use are declared here, for this file only. */
declare const document: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const window: any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare function getComputedStyle(element: unknown): any; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The teacher's day in Chromium (issue 8): signs in, books a room for next Tuesday 10:00-11:00, sees it on the
 * planning, tries the same slot again and reads the conflict, declares an incident on the projector of room 12 from
 * its QR-code link, finds it in "my incidents". In French, without JavaScript, and in English; then the declaration
 * form with the keyboard only.
 */
let e2e: E2E;

describeE2E("the teacher's journey in a real browser", () => {
  beforeAll(async () => {
    e2e = await E2E.start();
  }, 60_000);
  afterAll(async () => {
    e2e?.summary('teacher.test.ts');
    await e2e?.stop();
  });

  // The link the teacher's phone reads on the projector's printed label (decoded in the first test).
  let qrLink: string | undefined;

  it("a referent's printed label of the projector of room 12 holds its declaration link (read in the browser)", async () => {
    const referent = await e2e.signIn('referent1', VARIANTS[0]!, { deviceScaleFactor: 3 });
    try {
      await referent.submit(referent.page.getByRole('link', { name: referent.t('common:home.inbox') }));
      await referent.submit(referent.page.getByRole('link', { name: referent.t('attachments:labels.link') }).first());
      await referent.check('referent-labels', { shots: false }); // drawn at 3x for the decoding; the tour shoots it at 1x
      const decoded = await decodeLabelQr(referent, PROJECTOR);
      const id = await equipmentIdByName(e2e, PROJECTOR);
      // Absolute, from the host's public URL (the test host says http://127.0.0.1:3000; this one listens elsewhere).
      expect(decoded).toBe(`http://127.0.0.1:3000/reservations/incidents/new?equipment=${id}`);
      const url = new URL(decoded);
      qrLink = url.pathname + url.search;
    } finally {
      await referent.close();
    }
  }, 60_000);

  // Each run books its own room, so that the runs share one database without meeting.
  const rooms: Record<string, string> = { 'in French': 'Salle 12', 'in French, without JavaScript': 'Salle 14', 'in English': 'Salle informatique' };

  for (const variant of VARIANTS) {
    it(`books, meets the conflict, declares from the QR link and finds it (${variant.name})`, async () => {
      const room = rooms[variant.name]!;
      const date = nextTuesday();
      const reason = `6e B — ${variant.name}`;
      const teacher = await e2e.signIn('enseignant', variant);
      const { page, t } = teacher;
      try {
        await teacher.check('teacher-home');

        // The planning, from the home page, then the booking form from the planning.
        await teacher.submit(page.getByRole('link', { name: t('common:home.openPlanning') }));
        expect(page.url()).toContain('/reservations/structures/college-a/planning');
        await teacher.check('teacher-planning-week');
        await teacher.submit(page.getByRole('link', { name: t('planning:book'), exact: true }));
        await teacher.check('teacher-booking-form');
        await fillBooking(teacher, room, date, reason);
        expect(new URL(page.url()).pathname).toBe('/reservations/bookings/mine');
        expect(await page.getByRole('status').innerText()).toBe(t('planning:mine.created', { count: 1 }));
        const row = page.getByRole('row').filter({ hasText: room }).filter({ hasText: reason });
        expect(await row.count()).toBe(1);
        expect(await row.innerText()).toMatch(/10:00.11:00/);
        await teacher.check('teacher-my-bookings');

        // On the planning: the room, next week, the booking marked as the teacher's.
        await teacher.submit(page.getByRole('link', { name: t('planning:mine.openPlanning') }).first());
        await page.getByLabel(t('planning:room'), { exact: true }).selectOption({ label: room });
        await teacher.submit(page.getByRole('button', { name: t('planning:show') }));
        await teacher.submit(page.getByRole('link', { name: t('planning:nextWeek') }));
        const cell = page.getByRole('cell').filter({ hasText: /10:00.11:00/ });
        expect(await cell.count()).toBe(1);
        expect(await cell.innerText()).toContain(reason);
        expect(await cell.innerText()).toContain(t('planning:mine.tag'));
        expect(await page.locator('caption').first().innerText()).toContain(room);
        await teacher.check('teacher-planning-room');

        // The same slot again: refused, with the conflict in words.
        await teacher.submit(page.getByRole('link', { name: t('planning:book'), exact: true }));
        const response = await fillBooking(teacher, room, date, 'Encore');
        expect(response).toBe(409);
        const alert = page.getByRole('alert');
        expect(await alert.getByRole('heading').innerText()).toBe(t('planning:form.errorTitle'));
        const conflict = t('booking:conflict', { dates: '\u0000' }).split('\u0000')[0]!;
        expect(await alert.innerText()).toContain(conflict);
        await teacher.check('teacher-booking-conflict');

        // In front of the projector of room 12: the QR code's link, then "my incidents".
        const description = `La lampe clignote puis s'éteint (${variant.name}).`;
        expect(qrLink).toBeDefined();
        const number = await declareFromQrLink(teacher, PROJECTOR, description, 'teacher', qrLink, 'projecteur.jpg');
        await teacher.submit(page.getByRole('link', { name: t('incident:mine.link') }));
        expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(t('incident:mine.heading'));
        const mine = page.getByRole('row').filter({ has: page.getByRole('link', { name: t('incident:number', { number }), exact: true }) });
        expect(await mine.count()).toBe(1);
        expect(await mine.innerText()).toContain(PROJECTOR);
        expect(await mine.innerText()).toContain(t('incident:status.new'));
        await teacher.check('teacher-incidents-mine');
        await teacher.submit(mine.getByRole('link', { name: t('incident:number', { number }), exact: true }));
        expect(await page.getByText(description).count()).toBe(1);
        // The photo is there, its thumbnail served and drawn under the CSP (img-src 'self').
        const photo = page.getByRole('link', { name: /projecteur\.jpg/ }).filter({ has: page.locator('img') }); // the thumbnail (alt="": the link says the name)
        expect(await photo.count()).toBe(1);
        expect(await photo.locator('img').evaluate((img: any) => img.complete && img.naturalWidth > 0)).toBe(true); // eslint-disable-line @typescript-eslint/no-explicit-any
        await teacher.check('teacher-incident');
      } finally {
        await teacher.close();
      }
    }, 90_000);
  }

  it('declares from the QR link with the keyboard only (Tab, Space, Enter), the focus always visible', async () => {
    const teacher = await e2e.signIn('enseignant', VARIANTS[0]!);
    const { page, t } = teacher;
    try {
      const id = await equipmentIdByName(e2e, PROJECTOR);
      await teacher.goto(`/reservations/incidents/new?equipment=${id}`);
      // The skip link comes first and takes the focus to the content.
      await page.keyboard.press('Tab');
      const skip = await focused(page);
      expect(skip.text).toBe(t('host:skipToContent'));
      expect(skip.visible).toBe(true);
      await page.keyboard.press('Enter');
      expect((await focused(page)).id).toBe('main');

      const description = 'Le vidéoprojecteur fait un bruit de ventilateur très fort.';
      const visited: string[] = [];
      let typed = false;
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press('Tab');
        const f = await focused(page);
        visited.push(f.label);
        // Every stop shows where the focus is: a visible outline (WCAG 2.4.7).
        expect({ stop: f.label, focusVisible: f.visible }).toEqual({ stop: f.label, focusVisible: true });
        if (f.type === 'radio' && !f.checked) await page.keyboard.press('Space');
        if (f.tag === 'textarea' && !typed) {
          await page.keyboard.type(description);
          typed = true;
        }
        if (f.tag === 'button' && f.text === t('incident:new.submit')) {
          await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
          break;
        }
      }
      const match = /\/incidents\/(\d+)\/declared$/.exec(page.url());
      expect({ url: page.url(), visited }).toEqual({ url: expect.stringMatching(/\/declared$/), visited });
      const row = await e2e.h.db.knex('rsv_incidents').where({ id: match![1] }).first();
      expect(row).toMatchObject({ equipment_id: id, description, status: 'new' });
    } finally {
      await teacher.close();
    }
  }, 60_000);
});

/** Fills the booking form (room, date, 10:00-11:00, reason) and sends it; returns the answer's status. */
async function fillBooking(user: UserPage, room: string, date: string, reason: string): Promise<number> {
  const { page, t } = user;
  await page.getByLabel(t('planning:form.field.equipmentId'), { exact: true }).selectOption({ label: room });
  await page.getByLabel(t('planning:form.field.date'), { exact: true }).fill(date);
  await page.getByLabel(t('planning:form.field.start'), { exact: true }).fill('10:00');
  await page.getByLabel(t('planning:form.field.end'), { exact: true }).fill('11:00');
  await page.getByLabel(t('planning:form.field.reason'), { exact: true }).fill(reason);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/bookings/new')),
    page.getByRole('button', { name: new RegExp(`^${escapeRegExp(t('planning:form.submit'))}$`) }).click(),
  ]);
  await page.waitForLoadState('load');
  return response.status();
}

/** What has the focus, and whether it can be seen (an outline or a box shadow on it). */
async function focused(page: UserPage['page']) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el) return { tag: 'none', id: '', type: '', text: '', label: 'none', checked: false, visible: false };
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
    const shadow = style.boxShadow !== 'none';
    const rect = el.getBoundingClientRect();
    const onScreen = rect.width > 0 && rect.height > 0 && rect.right > 0 && rect.bottom > 0 && rect.left < window.innerWidth;
    const input = el;
    const labelText = (input.labels && input.labels[0]?.textContent) || el.getAttribute('aria-label') || (el.textContent ?? '');
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      type: input.type ?? '',
      text: (el.textContent ?? '').trim(),
      label: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} ${labelText.trim().slice(0, 40)}`,
      checked: Boolean(input.checked),
      // The content (<main tabindex=-1>) gets the focus from the skip link only, never by Tab: no outline needed.
      visible: onScreen && (outline || shadow || el.id === 'main'),
    };
  });
}
