// The "Add a host" panel of the dashboard: a registration token and the lines to paste on the new host.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, apiPath, hashPath, Host } from "./api";
import { countdown } from "./format";

interface Minted {
  token: string;
  expires_at: string;
}

// Adding a host: mint a one-time registration token, show the exact lines to paste on the new host,
// count down to the token's expiry, and say when the host has registered.
export function AddHost({ knownHosts }: { knownHosts: Host[] }) {
  const [minted, setMinted] = useState<Minted | null>(null);
  const [error, setError] = useState("");
  const [left, setLeft] = useState(0);
  const [image, setImage] = useState("dockmon-agent:latest");
  const [arrived, setArrived] = useState<Host[]>([]);
  const before = useRef<Set<string>>(new Set());
  const origin = location.origin;

  async function mint() {
    setError("");
    setArrived([]);
    before.current = new Set(knownHosts.map((h) => h.id));
    try {
      const m = await api<Minted>("POST", apiPath("agent", "generate-token"));
      setMinted(m);
      setLeft((Date.parse(m.expires_at) - Date.now()) / 1000);
    } catch (e) {
      setError((e as Error).message);
    }
  }

  // The countdown, and a look for new hosts every two seconds while the token can still be used.
  useEffect(() => {
    if (!minted) return;
    const expires = Date.parse(minted.expires_at);
    const tick = setInterval(() => setLeft((expires - Date.now()) / 1000), 1000);
    const look = setInterval(() => {
      if (Date.now() > expires + 5000) return;
      api<Host[]>("GET", apiPath("hosts"))
        .then((hosts) => setArrived(hosts.filter((h) => !before.current.has(h.id))))
        .catch(() => undefined);
    }, 2000);
    return () => {
      clearInterval(tick);
      clearInterval(look);
    };
  }, [minted]);

  const expired = minted !== null && left <= 0 && arrived.length === 0;
  const dockerLine = minted
    ? `docker run -d --name dockmon-agent --restart unless-stopped \\\n` +
      `  -v /var/run/docker.sock:/var/run/docker.sock -v dockmon-agent:/data \\\n` +
      `  -e DOCKMON_URL=${origin} -e REGISTRATION_TOKEN=${minted.token} \\\n` +
      `  ${image}`
    : "";
  const nativeLine = minted
    ? `sudo env DOCKMON_URL=${origin} REGISTRATION_TOKEN=${minted.token} \\\n` +
      `  DATA_PATH=/var/lib/dockmon-agent AGENT_MODE=native /usr/local/bin/dockmon-agent`
    : "";

  return (
    <div class="panel add-host" role="region" aria-label="Add a host">
      <h3>Add a host</h3>
      <p>
        A registration token works once and for 15 minutes. The agent on the new host dials out to this server
        ({origin}); nothing needs to reach the new host.
      </p>
      {error && <p class="error" role="alert">{error}</p>}
      {!minted || expired ? (
        <button type="button" class="primary" onClick={mint}>
          {expired ? "The token expired: mint a new one" : "Mint a registration token"}
        </button>
      ) : (
        <>
          <p>
            Token <code data-token>{minted.token}</code>{" "}
            <span class="countdown" aria-live="off">
              expires in <strong class="num">{countdown(left)}</strong>
            </span>
          </p>
          <label class="inline">
            Agent image <input value={image} onInput={(e) => setImage(e.currentTarget.value)} size={28} />
          </label>
          <Snippet title="As a container (Docker socket mounted)" text={dockerLine} />
          <Snippet title="Natively (a dockmon-agent binary; for systemd see the README)" text={nativeLine} />
          {arrived.length === 0 ? (
            <p class="waiting" role="status">
              Waiting for the new host to register…
            </p>
          ) : (
            <p class="note" role="status" data-arrived>
              {arrived.map((h) => (
                <span key={h.id}>
                  Registered: <a href={hashPath("hosts", h.id)}>{h.name}</a> ({h.status}){" "}
                </span>
              ))}
            </p>
          )}
        </>
      )}
    </div>
  );
}

function Snippet({ title, text }: { title: string; text: string }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);  // no clipboard (plain http off localhost): the text is selectable
    }
  }
  return (
    <figure class="snippet">
      <figcaption>
        {title}{" "}
        <button type="button" onClick={copy}>
          {copied ? "Copied" : "Copy"}
        </button>
      </figcaption>
      <pre tabIndex={0}>{text}</pre>
    </figure>
  );
}
