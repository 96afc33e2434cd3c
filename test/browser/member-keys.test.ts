// Member keys in IndexedDB (src/browser/member-keys.ts): a
// non-extractable private key is stored by structured clone and still signs
// after the store is opened again (a reload). fake-indexeddb stands in for
// the browser's; the browser itself is checked by the e2e tests.
import 'fake-indexeddb/auto'
import { describe, expect, it } from 'vitest'
import { IndexedDbMemberKeyStore } from '../../src/browser/member-keys'
import { createMemberKey, signHello, verifyHello } from '../../src/wire/member-key'

describe('IndexedDbMemberKeyStore', () => {
  it('keeps a slot’s key across stores; the key read back signs and stays unreadable', async () => {
    const key = await createMemberKey()
    await new IndexedDbMemberKeyStore().put('room', key)
    const back = await new IndexedDbMemberKeyStore().get('room', key.id)
    expect(back?.id).toBe(key.id)
    expect(back?.privateKey.extractable).toBe(false)
    const t = { room: 'room', signer: `${key.id}/t`, signerBrowser: 'b1', verifier: 'kb/t', attempt: 'x1', signerChallenge: new Uint8Array(32).fill(1), verifierChallenge: new Uint8Array(32).fill(2) }
    await expect(verifyHello(key.id, key, await signHello(back!, t), t)).resolves.toBeUndefined()
  })

  it('knows nothing of another room or another member', async () => {
    const key = await createMemberKey()
    const store = new IndexedDbMemberKeyStore()
    await store.put('room-a', key)
    expect(await store.get('room-b', key.id)).toBeNull()
    expect(await store.get('room-a', 'mlegacy0123456789ab')).toBeNull()
  })
})
