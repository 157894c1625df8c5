import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultGuestName } from '../../src/pairing/guests.js';
import { UsageError } from '../../src/errors.js';

describe('defaultGuestName (share without --as)', () => {
  test("the user part of the key's comment first", () => {
    assert.equal(defaultGuestName('/keys/id_ed25519.pub', 'alice@laptop'), 'alice');
    assert.equal(defaultGuestName('/keys/x.pub', 'Bob.Smith@corp'), 'bob-smith');
  });

  test("else the key file's name", () => {
    assert.equal(defaultGuestName('/keys/carol.pub', ''), 'carol');
    assert.equal(defaultGuestName('/keys/dave.pub', '42@host'), 'dave');
  });

  test('fitted to 1-20 of a-z 0-9 - starting with a letter', () => {
    assert.equal(defaultGuestName('/k.pub', 'a-very-long-guest-name-indeed@x'), 'a-very-long-guest-na');
    assert.equal(defaultGuestName('/k.pub', '__eve__@x'), 'eve');
  });

  test('nothing usable: a usage error that asks for --as', () => {
    assert.throws(() => defaultGuestName('/keys/id_ed25519.pub', ''), (err: unknown) => err instanceof UsageError && /--as/.test(err.message + (err.hint ?? '')));
  });
});
