// check.js runs Microsoft's official JavaScript Graph client
// (@microsoft/microsoft-graph-client, unmodified) against a Microsoft Graph
// endpoint, normally the m365emulator served over TLS, and prints a JSON
// summary of what it read and wrote on stdout. Any answer that breaks what
// the client or Graph's documents promise ends the run with exit status 1
// and a message on stderr naming the step.
//
// Environment:
//   GRAPH_BASE_URL   the service root without the version,
//                    e.g. https://127.0.0.1:8443 (https: the client sends
//                    its token and follows links only over https)
//   GRAPH_TOKEN      the bearer token to send
//   GRAPH_PAGE_SIZE  the small page size to page with (default 2)
//   NODE_EXTRA_CA_CERTS  the file of the authority that signed the
//                    endpoint's certificate (read by Node itself)
//
// It writes to the tenant: it creates one user (check-<random>@<the
// default domain>), licenses it with the first SKU that has a free seat,
// renames it, deletes and restores it. Run it against a throwaway tenant
// only.
"use strict";

const {
  Client,
  PageIterator,
  BatchRequestContent,
  BatchResponseContent,
} = require("@microsoft/microsoft-graph-client");

class Mismatch extends Error {}

function check(cond, step, msg) {
  if (!cond) throw new Mismatch(`${step}: ${msg}`);
}

// describe renders a client error (GraphError) with Graph's code and status.
function describe(err) {
  if (err && err.statusCode !== undefined) {
    return `HTTP ${err.statusCode} ${err.code || ""}: ${err.message}`;
  }
  return String(err && err.stack ? err.stack : err);
}

async function step(name, fn) {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Mismatch) throw err;
    throw new Mismatch(`${name}: the client failed: ${describe(err)}`);
  }
}

// pageThrough follows @odata.nextLink with client.api(link), exactly as
// PageIterator does, recording the size of each page.
async function pageThrough(client, first, headers) {
  const sizes = [];
  const ids = [];
  const items = [];
  let page = first;
  for (;;) {
    sizes.push(page.value.length);
    for (const u of page.value) {
      ids.push(u.id);
      items.push(u);
    }
    const next = page["@odata.nextLink"];
    if (!next) return { sizes, ids, items, deltaLink: page["@odata.deltaLink"] };
    check(next.startsWith("https://"), "paging", `@odata.nextLink is not an https URL: ${next}`);
    let req = client.api(next);
    if (headers) req = req.headers(headers);
    page = await req.get();
  }
}

// iterate drains a collection with the client's PageIterator.
async function iterate(client, first, requestOptions) {
  const ids = [];
  const it = new PageIterator(
    client,
    first,
    (item) => {
      ids.push(item.id);
      return true;
    },
    requestOptions,
  );
  await it.iterate();
  check(it.isComplete(), "PageIterator", "the iterator did not reach the end of the collection");
  return { ids, deltaLink: it.getDeltaLink() };
}

// onlySelected checks that an entity holds the selected properties and no
// other (annotations aside).
function onlySelected(step, entity, selected) {
  const extra = Object.keys(entity).filter((k) => !k.startsWith("@") && !selected.includes(k));
  check(extra.length === 0, step, `$select ignored: unselected properties ${extra.join(", ")}`);
  const missing = selected.filter((k) => !(k in entity));
  check(missing.length === 0, step, `selected properties missing: ${missing.join(", ")}`);
}

function unique(step, ids) {
  check(new Set(ids).size === ids.length, step, `a user came twice: ${JSON.stringify(ids)}`);
}

async function main() {
  const base = (process.env.GRAPH_BASE_URL || "").replace(/\/+$/, "");
  const token = process.env.GRAPH_TOKEN || "";
  const pageSize = Number(process.env.GRAPH_PAGE_SIZE || "2");
  if (!base.startsWith("https://")) {
    throw new Mismatch("setup: GRAPH_BASE_URL must be the https service root, e.g. https://127.0.0.1:8443");
  }
  if (!token) throw new Mismatch("setup: GRAPH_TOKEN is empty");
  if (!(pageSize >= 1)) throw new Mismatch("setup: GRAPH_PAGE_SIZE must be a positive number");
  const host = new URL(base).hostname;

  // The client sends its token only to Graph's hosts or to the hosts given
  // in customHosts (the documented option for other endpoints).
  const client = Client.init({
    baseUrl: base,
    defaultVersion: "v1.0",
    customHosts: new Set([host]),
    authProvider: (done) => done(null, token),
  });
  const summary = { client: require("@microsoft/microsoft-graph-client/package.json").version };

  // Users, paged with $top, through the client's PageIterator and by hand.
  const topFirst = await step("users $top", () => client.api("/users").top(pageSize).get());
  const byTop = await step("users $top pages", () => pageThrough(client, topFirst));
  check(byTop.sizes.length >= 2, "users $top", `one page only (${byTop.sizes}); seed more users than the page size`);
  check(byTop.sizes.every((n) => n <= pageSize), "users $top", `a page is larger than $top=${pageSize}: ${byTop.sizes}`);
  unique("users $top", byTop.ids);
  const iterTop = await step("users $top PageIterator", async () =>
    iterate(client, await client.api("/users").top(pageSize).get()),
  );
  check(JSON.stringify(iterTop.ids) === JSON.stringify(byTop.ids), "users PageIterator",
    "PageIterator and the nextLinks listed different users");

  // The same through the client's own query builder: .top() and
  // .skipToken() (which writes "$skipToken") with the token of each link.
  const byBuilder = { sizes: [], ids: [] };
  for (let tok = null; ; ) {
    let req = client.api("/users").top(pageSize);
    if (tok !== null) req = req.skipToken(tok);
    const page = await step("users .skipToken()", () => req.get());
    byBuilder.sizes.push(page.value.length);
    for (const u of page.value) byBuilder.ids.push(u.id);
    check(byBuilder.sizes.length <= byTop.sizes.length, "users .skipToken()", "more pages than the nextLinks gave: $skipToken ignored?");
    const next = page["@odata.nextLink"];
    if (!next) break;
    tok = new URL(next).searchParams.get("$skiptoken") || new URL(next).searchParams.get("$skipToken");
    check(tok, "users .skipToken()", `no $skiptoken in ${next}`);
  }
  check(JSON.stringify(byBuilder.ids) === JSON.stringify(byTop.ids), "users .skipToken()",
    "the builder's pages listed other users than the nextLinks");

  // $count=true with ConsistencyLevel: eventual (the advanced-query page)
  // counts every user on every page.
  const counted = await step("users $count", () =>
    client.api("/users").header("ConsistencyLevel", "eventual").count(true).top(pageSize).get(),
  );
  check(counted["@odata.count"] === byTop.ids.length, "users $count",
    `@odata.count is ${counted["@odata.count"]}, the pages listed ${byTop.ids.length} users`);

  // The same with Prefer: odata.maxpagesize, carried to every page.
  const prefer = { Prefer: `odata.maxpagesize=${pageSize}` };
  const prefFirst = await step("users maxpagesize", () => client.api("/users").headers(prefer).get());
  const byPref = await step("users maxpagesize pages", () => pageThrough(client, prefFirst, prefer));
  check(byPref.sizes.every((n) => n <= pageSize), "users maxpagesize",
    `a page is larger than odata.maxpagesize=${pageSize}: ${byPref.sizes}`);
  check(byPref.sizes.length >= 2, "users maxpagesize", `odata.maxpagesize ignored: one page of ${byPref.sizes}`);
  const iterPref = await step("users maxpagesize PageIterator", async () =>
    iterate(client, await client.api("/users").headers(prefer).get(), { headers: prefer }),
  );
  check(JSON.stringify(iterPref.ids.slice().sort()) === JSON.stringify(byTop.ids.slice().sort()),
    "users maxpagesize", "odata.maxpagesize listed other users than $top");
  summary.users = {
    ids: byTop.ids.slice().sort(),
    topPages: byTop.sizes,
    skipTokenPages: byBuilder.sizes,
    count: counted["@odata.count"],
    maxPageSizePages: byPref.sizes,
  };

  // Users delta, first round to the end with a small page size ($top is
  // sent too, as the client's users/delta examples may).
  const deltaFirst = await step("delta", () =>
    client.api("/users/delta").headers(prefer).top(pageSize).select("id,displayName,userPrincipalName").get(),
  );
  const round1 = await step("delta round 1", () => pageThrough(client, deltaFirst, prefer));
  check(round1.sizes.length >= 2, "delta round 1", `one page only: ${round1.sizes}`);
  check(round1.sizes.every((n) => n <= pageSize), "delta round 1", `a page is larger than ${pageSize}: ${round1.sizes}`);
  check(typeof round1.deltaLink === "string" && round1.deltaLink.startsWith("https://"), "delta round 1",
    `no https @odata.deltaLink at the end: ${round1.deltaLink}`);
  unique("delta round 1", round1.ids);
  const iterDelta = await step("delta PageIterator", async () =>
    iterate(client, await client.api("/users/delta").select("id,displayName,userPrincipalName").get()),
  );
  check(typeof iterDelta.deltaLink === "string", "delta PageIterator", "getDeltaLink() returned nothing");
  check(JSON.stringify(iterDelta.ids.slice().sort()) === JSON.stringify(round1.ids.slice().sort()),
    "delta PageIterator", "PageIterator and the nextLinks gave different users");

  // Organization: the list and the entity by id.
  const orgs = await step("organization", () => client.api("/organization").get());
  check(Array.isArray(orgs.value) && orgs.value.length === 1, "organization", `expected one organization, got ${JSON.stringify(orgs.value)}`);
  const org = orgs.value[0];
  const orgByID = await step("organization/{id}", () => client.api(`/organization/${org.id}`).get());
  check(orgByID.id === org.id && orgByID.displayName === org.displayName, "organization/{id}",
    `answered ${orgByID.id} "${orgByID.displayName}" for ${org.id} "${org.displayName}"`);
  const orgSelected = await step("organization/{id} $select", () =>
    client.api(`/organization/${org.id}`).select(["id", "verifiedDomains"]).get(),
  );
  onlySelected("organization/{id} $select", orgSelected, ["id", "verifiedDomains"]);
  check(orgSelected.id === org.id, "organization/{id} $select", `answered ${orgSelected.id}`);
  const defaultDomain = (org.verifiedDomains || []).find((d) => d.isDefault);
  check(defaultDomain, "organization", "no default verified domain");
  summary.organization = {
    id: org.id,
    displayName: org.displayName,
    verifiedDomains: org.verifiedDomains.map((d) => d.name).sort(),
    defaultDomain: defaultDomain.name,
  };

  // Subscribed SKUs.
  // Subscribed SKUs support only $select (the List subscribedSkus page).
  const skuSelect = ["id", "skuId", "skuPartNumber", "prepaidUnits", "consumedUnits"];
  const skus = await step("subscribedSkus", () => client.api("/subscribedSkus").select(skuSelect).get());
  check(Array.isArray(skus.value) && skus.value.length > 0, "subscribedSkus", "no SKU");
  for (const s of skus.value) onlySelected("subscribedSkus $select", s, skuSelect);
  const skuByID = await step("subscribedSkus/{id}", () => client.api(`/subscribedSkus/${skus.value[0].id}`).get());
  check(skuByID.skuId === skus.value[0].skuId, "subscribedSkus/{id}", `answered ${skuByID.skuId}`);
  summary.subscribedSkus = skus.value
    .map((s) => ({ skuId: s.skuId, skuPartNumber: s.skuPartNumber, enabled: s.prepaidUnits.enabled, consumed: s.consumedUnits }))
    .sort((a, b) => a.skuId.localeCompare(b.skuId));
  const sku = skus.value.find((s) => s.prepaidUnits.enabled > s.consumedUnits);
  check(sku, "subscribedSkus", "no SKU with a free seat to assign");

  // Create a user, license it, rename it.
  const local = "check-" + Math.random().toString(36).slice(2, 10);
  const upn = `${local}@${defaultDomain.name}`;
  const created = await step("create user", () =>
    client.api("/users").post({
      accountEnabled: true,
      displayName: "Check " + local,
      mailNickname: local,
      userPrincipalName: upn,
      usageLocation: "FR",
      passwordProfile: { forceChangePasswordNextSignIn: true, password: "Ch3ck!" + local + "Zx" },
    }),
  );
  check(created.id && created.userPrincipalName === upn, "create user", `answered ${JSON.stringify(created)}`);
  const licensed = await step("assignLicense", () =>
    client.api(`/users/${created.id}/assignLicense`).post({
      addLicenses: [{ skuId: sku.skuId, disabledPlans: [] }],
      removeLicenses: [],
    }),
  );
  check(licensed.id === created.id, "assignLicense", `answered another user: ${licensed.id}`);
  const renamed = "Checked " + local;
  await step("update user", () => client.api(`/users/${created.id}`).patch({ displayName: renamed, usageLocation: "BE" }));
  const readBack = await step("get user", () =>
    client.api(`/users/${encodeURIComponent(upn)}`).select("id,displayName,usageLocation,assignedLicenses").get(),
  );
  check(readBack.id === created.id, "get user", `${upn} is ${readBack.id}, created as ${created.id}`);
  check(readBack.displayName === renamed && readBack.usageLocation === "BE", "get user",
    `the PATCH did not stick: ${JSON.stringify(readBack)}`);
  check((readBack.assignedLicenses || []).some((l) => l.skuId === sku.skuId), "get user",
    `the licence ${sku.skuId} is not assigned: ${JSON.stringify(readBack.assignedLicenses)}`);
  summary.created = { id: created.id, userPrincipalName: upn, displayName: renamed, usageLocation: "BE", skuId: sku.skuId };

  // Users delta, second round from the deltaLink: the new user is there.
  const round2First = await step("delta round 2", () => client.api(round1.deltaLink).headers(prefer).get());
  const round2 = await step("delta round 2 pages", () => pageThrough(client, round2First, prefer));
  check(round2.ids.includes(created.id), "delta round 2", `the created user ${created.id} is missing: ${round2.ids}`);
  check(typeof round2.deltaLink === "string", "delta round 2", "no @odata.deltaLink at the end");

  // Delete the user: the next round reports it @removed ("changed" while
  // it can be restored, the user-delta page); then restore it.
  await step("delete user", () => client.api(`/users/${created.id}`).delete());
  const deleted = await step("deletedItems", () => client.api("/directory/deletedItems/microsoft.graph.user").get());
  check(deleted.value.some((u) => u.id === created.id), "deletedItems", `${created.id} is not among the deleted users`);
  const round3First = await step("delta round 3", () => client.api(round2.deltaLink).get());
  const round3 = await step("delta round 3 pages", () => pageThrough(client, round3First));
  const removed = round3.items.find((u) => u.id === created.id);
  check(removed && removed["@removed"] && removed["@removed"].reason === "changed", "delta round 3",
    `the deleted user is not reported @removed (reason changed): ${JSON.stringify(removed)}`);
  const restored = await step("restore", () => client.api(`/directory/deletedItems/${created.id}/restore`).post({}));
  check(restored.id === created.id, "restore", `restored ${restored.id}`);
  await step("get restored user", () => client.api(`/users/${created.id}`).get());
  summary.delta = {
    round1: round1.ids.slice().sort(),
    round1Pages: round1.sizes,
    round2: round2.ids.slice().sort(),
    round3Removed: round3.ids.filter((id) => id === created.id),
  };

  // A JSON batch through the client's helpers. The requests' URLs name the
  // host without the version: BatchRequestContent 3.0.7 strips only the
  // scheme and host, and Graph resolves batch URLs against the version root.
  const batch = new BatchRequestContent([
    { id: "1", request: new Request(`${base}/users/${created.id}?$select=id,displayName`, { method: "GET" }) },
    { id: "2", request: new Request(`${base}/organization/${org.id}`, { method: "GET" }) },
    {
      id: "3",
      request: new Request(`${base}/users/${created.id}`, {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ displayName: renamed }),
      }),
    },
    { id: "4", request: new Request(`${base}/users/no-such-user@${defaultDomain.name}`, { method: "GET" }) },
  ]);
  const batchAnswer = await step("$batch", async () => client.api("/$batch").post(await batch.getContent()));
  const batchResp = new BatchResponseContent(batchAnswer);
  const status = {};
  for (const id of ["1", "2", "3", "4"]) {
    const r = batchResp.getResponseById(id);
    check(r, "$batch", `no answer for request ${id}`);
    status[id] = r.status;
  }
  check(status["1"] === 200 && status["2"] === 200 && status["3"] === 204 && status["4"] === 404, "$batch",
    `unexpected statuses ${JSON.stringify(status)}`);
  const b1 = await batchResp.getResponseById("1").json();
  check(b1.id === created.id && b1.displayName === renamed, "$batch", `request 1 answered ${JSON.stringify(b1)}`);
  const b2 = await batchResp.getResponseById("2").json();
  check(b2.id === org.id, "$batch", `request 2 answered ${JSON.stringify(b2)}`);
  const b4 = await batchResp.getResponseById("4").json();
  check(b4.error && b4.error.code, "$batch", `request 4 has no Graph error: ${JSON.stringify(b4)}`);
  summary.batch = { status, notFoundCode: b4.error.code };

  // Domains and their service configuration records.
  const domainSelect = ["id", "isVerified", "isDefault"];
  const domains = await step("domains", () => client.api("/domains").select(domainSelect).get());
  for (const d of domains.value) onlySelected("domains $select", d, domainSelect);
  summary.domains = [];
  for (const d of domains.value) {
    const entry = { id: d.id, isVerified: d.isVerified, isDefault: d.isDefault, records: [] };
    if (d.isVerified) {
      const recs = await step(`domains/${d.id}/serviceConfigurationRecords`, () =>
        client.api(`/domains/${d.id}/serviceConfigurationRecords`).get(),
      );
      for (const r of recs.value) {
        check(r.recordType && r.label, `domains/${d.id}/serviceConfigurationRecords`,
          `a record without recordType or label: ${JSON.stringify(r)}`);
        const type = String(r["@odata.type"] || "");
        check(type.toLowerCase().endsWith(`domaindns${r.recordType.toLowerCase()}record`),
          `domains/${d.id}/serviceConfigurationRecords`, `@odata.type ${type} for a ${r.recordType} record`);
        entry.records.push(`${r.recordType} ${r.label}`);
      }
      entry.records.sort();
    }
    summary.domains.push(entry);
  }
  summary.domains.sort((a, b) => a.id.localeCompare(b.id));

  process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
}

main().catch((err) => {
  const msg = err instanceof Mismatch ? err.message : `unexpected failure: ${describe(err)}`;
  process.stderr.write(`check.js: ${msg}\n`);
  process.exit(1);
});
