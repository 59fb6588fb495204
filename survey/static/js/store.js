/* The phone's own copy of the officer's work, in IndexedDB: it outlives reloads, a closed
   browser and an expired login. "outbox" holds households not yet on the server, "sent"
   the ones the server has accepted (for today's list, also with no signal). */
(function (BZ) {
  'use strict';
  const NAME = 'bluezone-survey';
  const STORES = ['outbox', 'sent'];
  let opening = null;

  function open() {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const req = indexedDB.open(NAME, 1);
        req.onupgradeneeded = () => {
          STORES.forEach((s) => {
            if (!req.result.objectStoreNames.contains(s)) req.result.createObjectStore(s, {keyPath: 'id'});
          });
        };
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
        req.onblocked = () => reject(new Error('the database is busy in another tab'));
      });
      opening.catch(() => { opening = null; });
    }
    return opening;
  }

  /* One transaction; resolves once it is committed (strict: on disk), with the request's result. */
  async function run(store, mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode, {durability: mode === 'readwrite' ? 'strict' : 'default'});
      const req = work(tx.objectStore(store));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
    });
  }

  BZ.store = {
    put: (store, item) => run(store, 'readwrite', (s) => s.put(item)),
    get: (store, id) => run(store, 'readonly', (s) => s.get(id)),
    remove: (store, id) => run(store, 'readwrite', (s) => s.delete(id)),
    all: (store) => run(store, 'readonly', (s) => s.getAll()),
    /* Change an item only if it is still the version read before (same "saved" stamp), in one
       transaction: a slow answer from the server never overwrites a correction made meanwhile.
       changes === null deletes it. Resolves true when applied. */
    settle: (store, item, changes) => run(store, 'readwrite', (s) => {
      const req = s.get(item.id);
      const out = {result: false};
      req.onsuccess = () => {
        const current = req.result;
        if (!current || current.saved !== item.saved) return;
        out.result = true;
        if (changes === null) s.delete(item.id);
        else s.put(Object.assign(current, changes));
      };
      return out;
    }),
    /* Ask the browser not to evict this origin's data when the phone runs short of space. */
    persist: () => (navigator.storage && navigator.storage.persist ? navigator.storage.persist() : Promise.resolve(false)),
  };
})(window.BZ = window.BZ || {});
