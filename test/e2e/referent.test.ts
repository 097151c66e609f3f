import { describeE2E, E2E, VARIANTS, declareFromQrLink, PROJECTOR, incidentMailSubject } from './support';
import { address } from '../helpers/mail';

/**
 * The referent's day in Chromium (issue 8): a teacher declares from the QR code; the referent finds the incident in
 * the inbox, takes it in charge, comments, closes it; the teacher's mail reaches the host's catcher at each step, in
 * the teacher's language, and the teacher reads them on the catcher's page. In French, without JavaScript, in English.
 */
let e2e: E2E;

describeE2E("the referent's journey in a real browser", () => {
  beforeAll(async () => {
    e2e = await E2E.start();
  }, 60_000);
  afterAll(async () => {
    e2e?.summary('referent.test.ts');
    await e2e?.stop();
  });

  for (const variant of VARIANTS) {
    it(`inbox, take in charge, comment, close; the teacher told at each step (${variant.name})`, async () => {
      const teacherMail = address('enseignant');
      // The teacher (whose language the mails follow) declares on the projector of room 12 from its QR code.
      const teacher = await e2e.signIn('enseignant', variant);
      const referent = await e2e.signIn('referent1', variant);
      try {
        const number = await declareFromQrLink(teacher, PROJECTOR, `Plus d'image sur le tableau (${variant.name}).`, null);
        const subject = (kind: 'created' | 'status_changed' | 'comment', status?: string) => incidentMailSubject(variant.lang, kind, number, PROJECTOR, status);
        await teacher.waitForMail(teacherMail, (m) => m.subject === subject('created'));

        const { page, t } = referent;
        const incidentLink = t('incident:number', { number });
        await referent.check('referent-home');
        await referent.submit(page.getByRole('link', { name: t('common:home.inbox') }));
        expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain(t('incident:inbox.heading'));
        const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: incidentLink, exact: true }) });
        expect(await row.count()).toBe(1);
        expect(await row.innerText()).toContain(PROJECTOR);
        expect(await row.innerText()).toContain(t('incident:status.new'));
        await referent.check('referent-inbox');

        // Taken in charge in one click from the inbox.
        await referent.submit(row.getByRole('button', { name: `${t('incident:manage.take')} — ${incidentLink}` }));
        expect(await page.getByRole('status').first().innerText()).toContain(number);
        await teacher.waitForMail(teacherMail, (m) => m.subject === subject('status_changed', 'taken'));

        // The incident page: a comment, then closed with a last word.
        await referent.submit(page.getByRole('link', { name: incidentLink, exact: true }));
        expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain(t('incident:status.taken'));
        await referent.check('referent-incident');
        const comment = `Lampe commandée, passage jeudi (${variant.name}).`;
        await page.getByLabel(t('incident:comment.label'), { exact: true }).fill(comment);
        await referent.submit(page.getByRole('button', { name: t('incident:comment.submit'), exact: true }));
        expect(await page.getByRole('status').innerText()).toBe(t('incident:notice.commented'));
        expect(await page.getByText(comment).count()).toBe(1);
        await teacher.waitForMail(teacherMail, (m) => m.subject === subject('comment') && m.text.includes(comment));

        const statusForm = page.getByRole('group', { name: t('incident:manage.changeStatus') });
        await statusForm.getByLabel(t('incident:manage.newStatus')).selectOption({ label: t('incident:status.closed') });
        await statusForm.getByLabel(t('incident:manage.commentOptional')).fill('Lampe changée.');
        await referent.submit(statusForm.getByRole('button', { name: t('incident:manage.changeStatusSubmit') }));
        expect(await page.getByRole('status').innerText()).toBe(t('incident:notice.moved'));
        expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain(t('incident:status.closed'));
        await referent.check('referent-incident-closed');
        const closedMail = await teacher.waitForMail(teacherMail, (m) => m.subject === subject('status_changed', 'closed'));
        // The "closed" mail asks the teacher whether it is fixed (issue 11), with a link to a page where they answer.
        const confirmUrl = /https?:\/\/\S+\/reservations\/incidents\/\d+\/confirm/.exec(closedMail.text)?.[0];
        expect(confirmUrl && new URL(confirmUrl).pathname).toBe(`/reservations/incidents/${number}/confirm`);

        // The teacher reads the four mails on the catcher's page, and the incident's history.
        await teacher.goto('/mail');
        for (const s of [subject('created'), subject('status_changed', 'taken'), subject('comment'), subject('status_changed', 'closed')]) {
          const shown = teacher.page.getByRole('listitem').filter({ hasText: s }).filter({ hasText: teacherMail });
          expect({ subject: s, shown: await shown.count() }).toEqual({ subject: s, shown: 1 });
        }
        await teacher.check('teacher-mail');
        await teacher.goto(`/reservations/incidents/${number}`);
        expect(await teacher.page.getByText(comment).count()).toBe(1);
        expect(await teacher.page.getByRole('heading', { level: 1 }).innerText()).toContain(teacher.t('incident:status.closed'));
        await teacher.check('teacher-incident-closed');

        // The teacher answers from the mail's link: fixed (or, in the run without JavaScript, not fixed: reopened).
        const tt = teacher.t;
        await teacher.goto(new URL(confirmUrl!).pathname);
        expect(await teacher.page.getByRole('heading', { level: 1 }).innerText()).toBe(tt('clock:confirm.heading', { number }));
        await teacher.check('teacher-incident-confirm');
        if (variant.javaScript) {
          await teacher.submit(teacher.page.getByRole('button', { name: tt('clock:confirm.fixed') }));
          expect(await teacher.page.getByRole('status').innerText()).toBe(tt('clock:confirm.done.confirmed'));
          await teacher.check('teacher-incident-confirmed');
        } else {
          await teacher.page.getByLabel(tt('clock:confirm.comment')).fill("L'image est toujours floue.");
          await teacher.submit(teacher.page.getByRole('button', { name: tt('clock:confirm.notFixed') }));
          expect(await teacher.page.getByRole('status').innerText()).toBe(tt('clock:confirm.done.reopened'));
          expect((await e2e.h.db.knex('rsv_incidents').where({ id: number }).first()).status).toBe('in_progress');
          await teacher.check('teacher-incident-reopened');
        }
      } finally {
        await teacher.close();
        await referent.close();
      }
    }, 90_000);
  }
});
