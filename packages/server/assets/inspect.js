// The /inspect page: calls the service with the key typed in (kept in this page only) and shows what the
// persona is made of. History text is shown with textContent only: it is data, never markup.

const maxTimelineItems = 2000;
const attributionsShown = 10;
const attributionsRequested = 200;

const byId = (id) => document.getElementById(id);
const form = byId('query');
const status = byId('status');
const failure = byId('failure');

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function percent(weight) {
  return `${(weight * 100).toFixed(weight >= 0.1 ? 1 : 2)}%`;
}

function formatDate(timestamp) {
  return timestamp === undefined ? 'no date' : new Date(timestamp).toISOString().slice(0, 10);
}

// Colour by weight relative to the heaviest item; the weight is always written out too.
function shade(weight, heaviest) {
  const ratio = heaviest > 0 ? Math.sqrt(weight / heaviest) : 0;
  return { background: `hsl(212 75% ${Math.round(96 - 58 * ratio)}%)`, dark: ratio > 0.55 };
}

async function call(path, key, init = {}) {
  const response = await fetch(new URL(path, document.baseURI), {
    ...init,
    headers: { authorization: `Bearer ${key}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body?.error ? body.error.message : `HTTP ${response.status}`;
    throw new Error(`${response.status}: ${message}`);
  }
  return body;
}

async function loadItems(key, userId) {
  const items = [];
  let cursor;
  let more = true;
  while (more && items.length < maxTimelineItems) {
    const query = new URLSearchParams({ limit: '1000' });
    if (cursor) query.set('cursor', cursor);
    const page = await call(`v1/users/${encodeURIComponent(userId)}/items?${query}`, key);
    items.push(...page.items);
    cursor = page.nextCursor;
    more = cursor !== null;
  }
  return { items: items.slice(0, maxTimelineItems), complete: !more };
}

function showTokens(usage) {
  const used = usage.budget > 0 ? Math.min(1, usage.personaTokens / usage.budget) : 0;
  byId('budget-bar').style.width = `${(used * 100).toFixed(1)}%`;
  const compression = usage.compression > 0 ? `${usage.compression.toFixed(1)}×` : 'n/a';
  byId('tokens').textContent =
    `Persona ${usage.personaTokens} of ${usage.budget} budget tokens (${usage.tokenizer}); ` +
    `history ${usage.historyTokens.toLocaleString('en')} tokens in ${usage.historyItems.toLocaleString('en')} items; ` +
    `compression ${compression}.`;
}

function showAttributions(attributions, texts) {
  const list = byId('attributions');
  list.replaceChildren();
  const top = attributions.slice(0, attributionsShown);
  const heaviest = top.length > 0 ? top[0].weight : 0;
  for (const attribution of top) {
    const row = element('li', 'attribution');
    const button = element('button', 'bar-button');
    button.type = 'button';
    button.dataset.itemId = attribution.itemId;
    const label = element('span', 'bar-label');
    label.append(
      element('span', 'weight', percent(attribution.weight)),
      element('span', 'item-id', attribution.itemId),
    );
    const track = element('span', 'bar-track');
    const bar = element('span', 'bar');
    bar.style.width = `${heaviest > 0 ? Math.max(2, (attribution.weight / heaviest) * 100) : 0}%`;
    track.append(bar);
    const quote = element('q', 'quote', texts.get(attribution.itemId) ?? '(item not loaded)');
    button.append(label, track, quote);
    button.setAttribute(
      'aria-label',
      `${percent(attribution.weight)}, item ${attribution.itemId}: ${texts.get(attribution.itemId) ?? ''}. Show in timeline.`,
    );
    button.addEventListener('click', () => focusTimelineItem(attribution.itemId));
    row.append(button);
    list.append(row);
  }
  if (top.length === 0) list.append(element('li', 'hint', 'No attributions: the user has no items.'));
}

function focusTimelineItem(itemId) {
  const row = [...byId('timeline').children].find((child) => child.dataset.itemId === itemId);
  if (!row) return;
  for (const other of byId('timeline').querySelectorAll('.selected')) other.classList.remove('selected');
  row.classList.add('selected');
  row.focus();
  row.scrollIntoView({ block: 'nearest' });
}

function showTimeline(items, weights, complete, total) {
  const ordered = items
    .map((item, position) => ({ item, position }))
    .sort(
      (left, right) =>
        (left.item.timestamp ?? Number.POSITIVE_INFINITY) -
          (right.item.timestamp ?? Number.POSITIVE_INFINITY) || left.position - right.position,
    )
    .map(({ item }) => item);
  let heaviest = 0;
  for (const weight of weights.values()) heaviest = Math.max(heaviest, weight);
  const strip = byId('strip');
  const timeline = byId('timeline');
  strip.replaceChildren();
  timeline.replaceChildren();
  for (const item of ordered) {
    const weight = weights.get(item.id);
    const colour = shade(weight ?? 0, heaviest);
    const cell = element('span', 'cell');
    cell.style.background = colour.background;
    strip.append(cell);
    const row = element('li', `event${colour.dark ? ' dark' : ''}`);
    row.tabIndex = -1;
    row.dataset.itemId = item.id;
    row.style.background = colour.background;
    const meta = element('span', 'event-meta');
    meta.append(
      element('span', 'date', formatDate(item.timestamp)),
      element('span', 'kind', item.kind ?? 'item'),
      element('span', 'weight', weight === undefined ? 'below top 200' : percent(weight)),
    );
    row.append(meta, element('span', 'event-text', item.text));
    timeline.append(row);
  }
  byId('timeline-hint').textContent =
    `${ordered.length.toLocaleString('en')} item${ordered.length === 1 ? '' : 's'} in time order` +
    (complete ? '' : ` (the first ${ordered.length.toLocaleString('en')} of ${total.toLocaleString('en')})`) +
    `, darker for more attention; the weights of the ${attributionsRequested} most attended items are shown.`;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const key = byId('key').value.trim();
  const userId = byId('user').value;
  const prompt = byId('prompt').value;
  const budget = Number(byId('budget').value);
  failure.hidden = true;
  byId('submit').disabled = true;
  status.textContent = 'Personalizing…';
  try {
    const result = await call(`v1/users/${encodeURIComponent(userId)}/personalize`, key, {
      method: 'POST',
      body: JSON.stringify({ prompt, budget, maxAttributions: attributionsRequested }),
    });
    status.textContent = 'Loading the history…';
    const { items, complete } = await loadItems(key, userId);
    const texts = new Map(items.map((item) => [item.id, item.text]));
    for (const evidence of result.persona.evidence)
      if (!texts.has(evidence.itemId)) texts.set(evidence.itemId, evidence.text);
    const weights = new Map(
      result.persona.attributions.map((attribution) => [attribution.itemId, attribution.weight]),
    );
    const system = result.messages.find((message) => message.role === 'system');
    byId('persona').textContent = system ? system.content : '(no persona: the budget is 0 or nothing fit)';
    showTokens(result.usage);
    showAttributions(result.persona.attributions, texts);
    showTimeline(items, weights, complete, result.usage.historyItems);
    byId('results').hidden = false;
    const warnings = result.warnings.map((warning) => warning.message).join(' ');
    status.textContent = `Personalized for ${result.usage.historyItems} items.${warnings ? ` ${warnings}` : ''}`;
  } catch (error) {
    status.textContent = '';
    failure.textContent = error instanceof Error ? error.message : String(error);
    failure.hidden = false;
  } finally {
    byId('submit').disabled = false;
  }
});
