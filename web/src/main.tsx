// DockMon's UI: sign-in, the hosts dashboard and each host's containers, kept live over /ws.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, apiPath, hashPath, Me, onUnauthorized, parseHash } from "./api";
import { AlertsView, useFiringCount } from "./Alerts";
import { ContainerView } from "./ContainerView";
import { Dashboard } from "./Dashboard";
import { EventsView } from "./EventsView";
import { HostView } from "./HostView";
import { onLiveState, startLive, stopLive, LiveState } from "./live";
import { Login } from "./Login";
import { Settings } from "./Settings";
import "./styles.css";

function useHashRoute(): string {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const on = () => setHash(location.hash || "#/");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function NotFound() {
  return (
    <section>
      <h2>No such page</h2>
      <p>
        This address names no page of DockMon. <a href={hashPath()}>Back to the hosts</a>
      </p>
    </section>
  );
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [live, setLive] = useState<LiveState>("connecting");
  const route = useHashRoute();
  const firing = useFiringCount(!!me);

  useEffect(() => {
    api<Me>("GET", apiPath("auth", "me"))
      .then(setMe)
      .catch(() => setMe(null));
    // A session ended elsewhere (sign out everywhere, a password change, an admin) shows the sign-in form.
    return onUnauthorized(() => setMe(null));
  }, []);
  useEffect(() => {
    if (!me) return;
    startLive();
    const off = onLiveState(setLive);
    return () => {
      off();
      stopLive();
    };
  }, [me]);

  if (me === undefined) return <p class="loading">Loading…</p>;
  if (me === null) return <Login onSignedIn={setMe} />;

  async function signOut() {
    await api("POST", apiPath("auth", "logout")).catch(() => undefined);
    setMe(null);
  }

  // Routes are parsed from decoded parts; a part that is not a single id (say "a%2F..%2Fb") is refused
  // rather than joined into another path.
  const parts = parseHash(route);
  const [top, hostId, sub, containerId] = parts ?? [];
  const known =
    parts !== null &&
    (parts.length === 0 ||
      (parts.length === 1 && (top === "events" || top === "settings" || top === "hosts" || top === "alerts")) ||
      (parts.length === 2 && top === "alerts") ||
      (top === "hosts" && (parts.length === 2 || (parts.length === 4 && sub === "containers"))));
  const section = known && (top === "events" || top === "settings" || top === "alerts") ? top : "hosts";
  let page;
  if (!known) page = <NotFound />;
  else if (section === "alerts") page = <AlertsView me={me} openId={hostId} />;
  else if (containerId) page = <ContainerView key={hostId + "/" + containerId} hostId={hostId} containerId={containerId} me={me} />;
  else if (hostId) page = <HostView key={hostId} hostId={hostId} me={me} />;
  else if (section === "events") page = <EventsView />;
  else if (section === "settings") page = <Settings me={me} />;
  else page = <Dashboard me={me} />;
  const link = (name: string, href: string, label: string) => (
    <a href={href} aria-current={section === name ? "page" : undefined}>
      {label}
    </a>
  );
  return (
    <>
      <header>
        <a class="brand" href={hashPath()}>
          DockMon
        </a>
        <nav aria-label="Main">
          {link("hosts", hashPath(), "Hosts")}
          {link("events", hashPath("events"), "Events")}
          <a href={hashPath("alerts")} aria-current={section === "alerts" ? "page" : undefined}>
            Alerts
            {firing > 0 && (
              <span class="alert-badge" aria-label={firing + " firing"} data-firing={firing}>
                {firing}
              </span>
            )}
          </a>
          {link("settings", hashPath("settings"), "Settings")}
        </nav>
        <span class={"live-state " + live} data-live={live} role="status" aria-live="polite">
          {live === "live" ? "live" : live === "lost" ? "connection lost, retrying…" : "connecting…"}
        </span>
        <span class="who">
          {me.username} <small>({me.role})</small>
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
