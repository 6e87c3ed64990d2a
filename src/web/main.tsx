import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type Credential, loadCredential, saveCredential } from './api.js';
import { SessionContext } from './hooks.js';
import { Account } from './pages/account.js';
import { Campaign, Campaigns } from './pages/campaigns.js';
import { Leaderboard } from './pages/leaderboard.js';
import { Node } from './pages/node.js';
import { Overview } from './pages/overview.js';
import { Playground } from './pages/playground.js';
import { Review } from './pages/review.js';

const PAGES = [
  ['#/', 'Overview'],
  ['#/playground', 'Playground'],
  ['#/leaderboards', 'Leaderboards'],
  ['#/data', 'Data'],
  ['#/account', 'Account'],
] as const;

type Theme = 'dark' | 'light';

function initialTheme(): Theme {
  const saved = localStorage.getItem('omnitensor.theme');
  if (saved === 'dark' || saved === 'light') return saved;
  return matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const changed = () => setHash(location.hash || '#/');
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash;
}

function Page({ hash }: { hash: string }) {
  // The network's figures are public; the playground and the account ask the user to sign in.
  const node = /^#\/node\/(0x[0-9a-fA-F]{40})$/.exec(hash);
  if (node?.[1]) return <Node key={node[1]} id={node[1].toLowerCase()} />;
  const campaign = /^#\/(campaign|review)\/([\w-]+)$/.exec(hash);
  if (campaign?.[1] === 'review' && campaign[2]) return <Review key={campaign[2]} id={campaign[2]} />;
  if (campaign?.[2]) return <Campaign key={campaign[2]} id={campaign[2]} />;
  if (hash === '#/data') return <Campaigns />;
  if (hash === '#/playground') return <Playground />;
  if (hash === '#/leaderboards') return <Leaderboard />;
  if (hash === '#/account') return <Account />;
  return <Overview />;
}

function App() {
  const hash = useHash();
  const [credential, setCredentialState] = useState<Credential | null>(loadCredential);
  const [theme, setTheme] = useState<Theme>(initialTheme);
  // Set while rendering, before the charts' effects read the theme's colors (children's effects run first).
  document.documentElement.dataset.theme = theme;
  useEffect(() => localStorage.setItem('omnitensor.theme', theme), [theme]);
  const setCredential = (c: Credential | null) => {
    saveCredential(c);
    setCredentialState(c);
  };
  return (
    <SessionContext.Provider value={{ credential, setCredential }}>
      <header>
        <a class="brand" href="#/">
          <img src="/favicon.svg" alt="" width="22" height="22" />
          OmniTensor
        </a>
        <nav>
          {PAGES.map(([href, label]) => (
            <a key={href} href={href} class={hash === href ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <button
          type="button"
          class="secondary theme"
          title="Switch between dark and light"
          onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
        >
          {theme === 'dark' ? 'Light' : 'Dark'}
        </button>
      </header>
      <main key={theme}>
        <Page hash={hash} />
      </main>
    </SessionContext.Provider>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
