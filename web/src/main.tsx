// DockMon's UI: sign-in, the hosts dashboard and each host's containers, kept live over /ws.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, Me } from "./api";
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

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [live, setLive] = useState<LiveState>("connecting");
  const route = useHashRoute();

  useEffect(() => {
    api<Me>("GET", "/api/auth/me")
      .then(setMe)
      .catch((e) => setMe(e instanceof ApiError && e.status === 401 ? null : null));
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
    await api("POST", "/api/auth/logout").catch(() => undefined);
    setMe(null);
  }

  const host = route.match(/^#\/hosts\/([0-9a-fA-F-]{1,64})$/);
  const container = route.match(/^#\/hosts\/([0-9a-fA-F-]{1,64})\/containers\/([A-Za-z0-9_.-]{1,128})$/);
  const section = container || host ? "hosts" : route.startsWith("#/events") ? "events" : route.startsWith("#/settings") ? "settings" : "hosts";
  let page;
  if (container) page = <ContainerView key={container[2]} hostId={container[1]} containerId={container[2]} me={me} />;
  else if (host) page = <HostView key={host[1]} hostId={host[1]} me={me} />;
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
        <a class="brand" href="#/">
          DockMon
        </a>
        <nav aria-label="Main">
          {link("hosts", "#/", "Hosts")}
          {link("events", "#/events", "Events")}
          {link("settings", "#/settings", "Settings")}
        </nav>
        <span class={"live " + live} role="status" aria-live="polite">
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
