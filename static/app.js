// orderbell pages: the live socket on every page of a logged-in user, the
// alert UI (toasts, chime, badge, drawer) and the order / accept buttons.
// Plain script, no build step; no inline script anywhere (CSP-friendly).
(() => {
  'use strict';

  const body = document.body;
  const role = body.dataset.role || '';
  const userId = body.dataset.userId || '';
  const me = role && userId ? `${role}:${userId}` : '';
  const key = (name) => `orderbell:${name}:${me}`;
  const won = (n) => `${Number(n).toLocaleString('ko-KR')}원`;
  // What this page received and what it showed, for people and tests.
  const state = { received: [], shown: [], socket: null };
  window.orderbell = state;

  const store = {
    get(name, fallback) {
      try { const v = localStorage.getItem(name); return v === null ? fallback : v; } catch { return fallback; }
    },
    set(name, value) { try { localStorage.setItem(name, value); } catch { /* private mode */ } },
  };

  // ---- the chime and its mute toggle ------------------------------------
  const muteButton = document.getElementById('mute');
  let audio = null;
  const muted = () => store.get('orderbell:muted', '0') === '1';
  function paintMute() {
    if (!muteButton) return;
    muteButton.setAttribute('aria-pressed', String(muted()));
    muteButton.textContent = muted() ? '소리 꺼짐' : '소리 켜짐';
  }
  function unlockAudio() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === 'suspended') audio.resume();
    } catch { audio = null; }
  }
  function chime() {
    if (muted()) return;
    unlockAudio();
    if (!audio) return;
    const t = audio.currentTime;
    [[880, 0], [660, 0.18]].forEach(([freq, at]) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + at);
      gain.gain.exponentialRampToValueAtTime(0.25, t + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + at);
      osc.stop(t + at + 0.32);
    });
  }
  if (muteButton) {
    paintMute();
    muteButton.addEventListener('click', () => {
      store.set('orderbell:muted', muted() ? '0' : '1');
      paintMute();
    });
  }
  document.addEventListener('pointerdown', unlockAudio, { once: true });

  // ---- toasts -----------------------------------------------------------
  const toasts = document.getElementById('toasts');
  const MAX_TOASTS = 4;
  function toast(event, payload) {
    const el = document.createElement('div');
    el.className = 'toast';
    el.setAttribute('role', 'alert');
    el.dataset.notificationId = payload.notification_id;
    el.dataset.orderId = payload.order_id;
    const title = document.createElement('strong');
    title.textContent = payload.message;
    const detail = document.createElement('span');
    detail.textContent = `주문 #${payload.order_id}${payload.total_price ? ` · ${won(payload.total_price)}` : ''}`;
    const link = document.createElement('a');
    link.href = '/mypage';
    link.textContent = '확인';
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'toast-close';
    close.setAttribute('aria-label', '알림 닫기');
    close.textContent = '✕';
    close.addEventListener('click', () => el.remove());
    el.append(title, detail, link, close);
    toasts.prepend(el);
    while (toasts.children.length > MAX_TOASTS) toasts.lastElementChild.remove();
    setTimeout(() => el.remove(), 15000);
  }
  function dismissToastsFor(orderId) {
    toasts.querySelectorAll(`.toast[data-order-id="${Number(orderId)}"]`).forEach((el) => el.remove());
  }

  // ---- badge and drawer -------------------------------------------------
  const badge = document.getElementById('badge');
  const bell = document.getElementById('bell');
  const drawer = document.getElementById('drawer');
  const drawerList = document.getElementById('drawer-list');
  let newestSeen = 0;
  function paintBadge(n) {
    if (!badge) return;
    badge.textContent = String(n);
    badge.hidden = n <= 0;
    bell.setAttribute('aria-label', `알림 ${n}개 읽지 않음`);
  }
  async function loadDrawer() {
    const res = await fetch('/notifications?latest=20', { credentials: 'same-origin' });
    if (!res.ok) return;
    paintBadge(Number(res.headers.get('X-Unread-Count') || 0));
    const list = await res.json();
    drawerList.replaceChildren(...list.reverse().map((n) => {
      newestSeen = Math.max(newestSeen, n.notification_id);
      const li = document.createElement('li');
      if (!n.read) li.className = 'unread';
      const when = new Date(n.created_at).toLocaleTimeString('ko-KR', { hour: '2-digit', minute: '2-digit' });
      li.textContent = `${n.message} · 주문 #${n.order_id} · ${when}`;
      return li;
    }));
    if (!list.length) {
      const li = document.createElement('li');
      li.className = 'muted';
      li.textContent = '알림이 없습니다.';
      drawerList.replaceChildren(li);
    }
  }
  if (bell) {
    bell.addEventListener('click', () => {
      const open = drawer.hidden;
      drawer.hidden = !open;
      bell.setAttribute('aria-expanded', String(open));
      if (open) loadDrawer();
    });
    document.getElementById('drawer-close').addEventListener('click', () => {
      drawer.hidden = true;
      bell.setAttribute('aria-expanded', 'false');
    });
    document.getElementById('mark-read').addEventListener('click', async () => {
      await loadDrawer();
      if (!newestSeen) return;
      const res = await fetch('/notifications/read', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ up_to_id: newestSeen }),
      });
      if (res.ok) loadDrawer();
    });
    loadDrawer();
  }

  // ---- my orders, updated in place --------------------------------------
  const ordersList = document.getElementById('orders');
  async function refreshOrders() {
    if (!ordersList) return;
    const res = await fetch('/orders', { credentials: 'same-origin' });
    if (!res.ok) return;
    const orders = await res.json();
    if (!orders.length) {
      const li = document.createElement('li');
      li.className = 'empty muted';
      li.textContent = '주문이 없습니다.';
      ordersList.replaceChildren(li);
      return;
    }
    ordersList.replaceChildren(...orders.map(orderItem));
  }
  function orderItem(o) {
    const li = document.createElement('li');
    li.className = 'order';
    li.dataset.orderId = o.order_id;
    li.dataset.status = o.status;
    const head = document.createElement('div');
    head.className = 'order-head';
    const id = document.createElement('strong');
    id.textContent = `#${o.order_id}`;
    const who = document.createElement('span');
    who.textContent = role === 'owner' ? `${o.client_nickname || ''} 님` : (o.store_name || '');
    const price = document.createElement('span');
    price.className = 'num';
    price.textContent = won(o.total_price);
    const st = document.createElement('span');
    st.className = `state ${o.status === 1 ? 'accepted' : 'pending'}`;
    st.textContent = o.status === 1 ? '승인됨' : '대기 중';
    head.append(id, who, price, st);
    const items = document.createElement('ul');
    items.className = 'items';
    for (const it of o.items) {
      const item = document.createElement('li');
      item.textContent = `${it.name} × ${it.count}`;
      items.append(item);
    }
    li.append(head, items);
    if (role === 'owner' && o.status === 0) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'approval-button primary';
      b.dataset.orderId = o.order_id;
      b.dataset.clientId = o.client_id;
      b.textContent = '주문 승인';
      li.append(b);
    }
    return li;
  }
  // This page's socket, named on the changes it makes: the server then
  // skips it when it tells the account's devices (ORDER_UPDATED); this
  // page has the answer to its own request.
  function fromThisDevice() {
    return state.socket && state.socket.connected && state.socket.id ? { 'X-Socket-Id': state.socket.id } : {};
  }
  if (ordersList && role === 'owner') {
    ordersList.addEventListener('click', async (e) => {
      const button = e.target.closest('.approval-button');
      if (!button) return;
      button.disabled = true;
      const res = await fetch(`/order-receive/${encodeURIComponent(button.dataset.orderId)}`, {
        method: 'PATCH', credentials: 'same-origin', headers: fromThisDevice(),
      });
      if (res.ok) {
        // The original page's own emit; orderbell already rang the customer.
        if (state.socket) state.socket.emit('APPROVAL_ORDER', { client_id: Number(button.dataset.clientId) });
      }
      dismissToastsFor(button.dataset.orderId);
      refreshOrders();
    });
  }

  // ---- the menu form and the order button -------------------------------
  const menuForm = document.getElementById('menu-form');
  const orderButton = document.getElementById('order-button');
  const orderStatus = document.getElementById('order-status');
  const totalOut = document.getElementById('order-total');
  const counts = () => [...(menuForm ? menuForm.querySelectorAll('input.count') : [])];
  function paintTotal() {
    const total = counts().reduce((sum, input) => sum + (Number(input.value) || 0) * Number(input.dataset.price), 0);
    if (totalOut) totalOut.textContent = won(total);
  }
  if (menuForm) {
    menuForm.addEventListener('input', paintTotal);
    menuForm.addEventListener('submit', (e) => e.preventDefault());
  }
  if (orderButton) {
    orderButton.addEventListener('click', async () => {
      const items = counts()
        .map((input) => ({ menu_id: Number(input.dataset.menuId), count: Number(input.value) || 0 }))
        .filter((item) => item.count > 0);
      if (!items.length) {
        orderStatus.textContent = '메뉴와 수량을 선택해 주세요.';
        return;
      }
      orderButton.disabled = true;
      try {
        const res = await fetch('/order', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', ...fromThisDevice() },
          body: JSON.stringify({ store_id: Number(menuForm.dataset.storeId), items }),
        });
        const data = await res.json().catch(() => ({}));
        if (!res.ok) {
          orderStatus.textContent = `주문하지 못했습니다: ${data.message || res.status}`;
          return;
        }
        orderStatus.textContent = `주문이 접수되었습니다. (주문 #${data.order_id}, ${won(data.total_price)})`;
        counts().forEach((input) => { input.value = '0'; });
        paintTotal();
        // The original page's own emit; orderbell already rang the owner.
        if (state.socket) state.socket.emit('SUBMIT_ORDER', { owner_id: data.owner_id });
      } finally {
        orderButton.disabled = false;
      }
    });
  }

  // ---- the live socket --------------------------------------------------
  if (!me || typeof window.io !== 'function') return;

  const lastKey = key('last');
  const lastSeen = () => Number(store.get(lastKey, body.dataset.lastNotificationId || '0')) || 0;
  if (store.get(lastKey, null) === null) store.set(lastKey, String(lastSeen()));

  // Once per browser: the first tab to add the alert's id to IndexedDB
  // shows it. An add is atomic across tabs; localStorage is not (Chromium
  // passes its writes between tabs asynchronously).
  let shownDB = null;
  function openShown() {
    if (shownDB) return shownDB;
    shownDB = new Promise((resolve) => {
      try {
        const req = indexedDB.open('orderbell', 1);
        req.onupgradeneeded = () => req.result.createObjectStore('shown');
        req.onsuccess = () => {
          const db = req.result;
          // Forget what was shown more than a day ago (values are times).
          const cutoff = Date.now() - 86400000;
          try {
            db.transaction('shown', 'readwrite').objectStore('shown').openCursor().onsuccess = (e) => {
              const cursor = e.target.result;
              if (!cursor) return;
              if (cursor.value < cutoff) cursor.delete();
              cursor.continue();
            };
          } catch { /* best effort */ }
          resolve(db);
        };
        req.onerror = () => resolve(null);
      } catch { resolve(null); }
    });
    return shownDB;
  }
  const seenHere = new Set();
  async function firstTime(id) {
    if (seenHere.has(id)) return false;
    seenHere.add(id);
    const db = await openShown();
    if (!db) return true;
    return new Promise((resolve) => {
      const tx = db.transaction('shown', 'readwrite');
      const req = tx.objectStore('shown').add(Date.now(), `${me}:${id}`);
      req.onsuccess = () => resolve(true);
      req.onerror = (e) => { e.preventDefault(); resolve(false); };
    });
  }

  async function onAlert(event, payload) {
    refreshOrders(); // in every tab, shown here or not
    const id = Number(payload.notification_id);
    if (id > lastSeen()) store.set(lastKey, String(id));
    const first = await firstTime(id);
    state.received.push(id);
    if (!first) return;
    state.shown.push(id);
    toast(event, payload);
    chime();
    if (badge) paintBadge((Number(badge.textContent) || 0) + 1);
  }

  // A login that ends is said on the page; the page is never taken away.
  function loginEnded() {
    if (document.getElementById('login-ended')) return;
    const p = document.createElement('p');
    p.id = 'login-ended';
    p.className = 'flash warn';
    p.setAttribute('role', 'status');
    p.append('로그인이 만료되어 알림을 받을 수 없습니다. ');
    const a = document.createElement('a');
    a.href = '/login';
    a.textContent = '다시 로그인';
    p.append(a);
    document.querySelector('main').prepend(p);
  }

  const socket = window.io({
    // A function, so every reconnect asks for what it missed meanwhile.
    auth: (cb) => cb({ last_notification_id: String(lastSeen()) }),
  });
  state.socket = socket;
  socket.on('SUBMIT_ORDER', (p) => onAlert('SUBMIT_ORDER', p));
  socket.on('APPROVAL_ORDER', (p) => onAlert('APPROVAL_ORDER', p));
  socket.on('ORDER_UPDATED', (o) => {
    if (role === 'owner' && o.status === 1) dismissToastsFor(o.order_id);
    refreshOrders();
  });
  socket.on('connect', () => body.setAttribute('data-socket', 'connected'));
  socket.on('disconnect', (reason) => {
    body.setAttribute('data-socket', 'disconnected');
    if (reason === 'io server disconnect') loginEnded();
  });
  socket.on('connect_error', (err) => {
    body.setAttribute('data-socket', 'refused');
    if (err && err.message === 'unauthorized') loginEnded();
  });
})();
