/**
 * An enrollment past its 15 minutes (src/appliances/enrollment.ts), against Azurite with the clock moved on: its
 * code opens nothing any more, the device's poll answers `expired_token`, and an appliance registered for it but
 * never confirmed is revoked then (it would otherwise stay, unbound, for nobody).
 * @module
 */
import { describe, expect, inject, it } from 'vitest';
import { createDataTablesStorage } from '../../src/adapters/tables/data-tables.js';
import { createApplianceStore } from '../../src/appliances/appliance-store.js';
import { createEnrollmentStore } from '../../src/appliances/enrollment-store.js';
import {
  ENROLLMENT_TTL_SECONDS,
  enrollmentLanding,
  pollEnrollment,
  type EnrollmentDeps,
} from '../../src/appliances/enrollment.js';
import { ConsentFailure } from '../../src/consent/errors.js';
import { loadProfiles } from '../../src/profiles/profiles.js';
import { createAuthThrottle } from '../../src/vending/auth-throttle.js';
import { createDevicePolls } from '../../src/vending/device-code.js';
import { DeviceFlowError } from '../../src/vending/errors.js';
import { applianceRecord } from '../helpers/appliances.js';

const tables = createDataTablesStorage({
  kind: 'connectionString',
  connectionString: inject('tablesConnectionString'),
});

describe('an enrollment past its time', () => {
  it('opens nothing, answers expired_token, and revokes the unconfirmed appliance', async () => {
    const enrollments = createEnrollmentStore(tables);
    const appliances = createApplianceStore(tables);
    const appliance = applianceRecord({
      customerRef: 'EXPIRY-1',
      tenantId: null,
      profiles: ['exchange-imap'],
    });
    await appliances.create(appliance);
    const started = new Date('2026-12-03T10:00:00Z');
    const id = crypto.randomUUID();
    const deviceCode = `cbe_${'x'.repeat(11)}${id.replace(/-/g, '')}`;
    const userCode =
      'BCDF-' +
      id
        .replace(/[^b-df-hj-np-tv-z]/gi, '')
        .toUpperCase()
        .padEnd(4, 'B')
        .slice(0, 4);
    await enrollments.create(
      {
        id,
        status: 'pending',
        createdAt: started.toISOString(),
        expiresAt: new Date(started.getTime() + ENROLLMENT_TTL_SECONDS * 1000).toISOString(),
        address: null,
        profiles: ['exchange-imap'],
        customerRef: 'EXPIRY-1',
        jwks: [],
        applianceId: appliance.clientId,
        signInStarts: 1,
        secret: null,
        deliveredAt: null,
      },
      { deviceCode, userCode },
    );
    let now = new Date(started.getTime() + 60_000);
    const deps = {
      enrollments,
      appliances,
      profiles: await loadProfiles(undefined),
      userCodes: createAuthThrottle(),
      devicePolls: createDevicePolls(),
      settings: { publicUrl: 'https://broker.example.com', enrollment: 'onboarded' },
      now: () => now,
    } as unknown as EnrollmentDeps;
    // Within its time: the code opens it, the device waits.
    expect((await enrollmentLanding(deps, userCode, '192.0.2.1')).enrollment.id).toBe(id);
    await expect(pollEnrollment(deps, new Map([['device_code', deviceCode]]))).rejects.toMatchObject({
      code: 'authorization_pending',
    });

    now = new Date(started.getTime() + (ENROLLMENT_TTL_SECONDS + 1) * 1000);
    await expect(enrollmentLanding(deps, userCode, '192.0.2.1')).rejects.toEqual(
      new ConsentFailure('userCodeUnknown'),
    );
    const err = await pollEnrollment(deps, new Map([['device_code', deviceCode]])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceFlowError);
    expect(err).toMatchObject({ code: 'expired_token' });
    expect(await appliances.get(appliance.clientId)).toMatchObject({ status: 'revoked', tenantId: null });
  });
});
