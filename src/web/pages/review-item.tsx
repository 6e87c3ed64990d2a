import { useEffect, useState } from 'preact/hooks';
import type { BatchItemView } from '../../protocol/campaigns.js';
import { ApiError, getBlob } from '../api.js';
import { si } from '../format.js';
import { useSession } from '../hooks.js';

/** The media types of the formats the router recognises by their magic bytes (src/data/magic.ts). */
const MIME: Record<string, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  flac: 'audio/flac',
  mp4: 'video/mp4',
  webm: 'video/webm',
};

/** Text longer than the batch carries inline is fetched and shown up to this many bytes. */
const TEXT_SHOWN = 64 * 1024;

type Content = { url: string } | { text: string } | { error: string } | null;

/**
 * The raw item, fetched with the reviewer's key (the router serves it only to the owner and the reviewers it
 * was assigned to, so an <img src> without the key would be refused) and shown from a blob: URL.
 */
function useContent(campaign: string, item: BatchItemView): Content {
  const { credential } = useSession();
  const [content, setContent] = useState<Content>(null);
  useEffect(() => {
    if (item.text !== null) return;
    const controller = new AbortController();
    let url: string | null = null;
    setContent(null);
    const path = `/api/campaigns/${encodeURIComponent(campaign)}/items/${encodeURIComponent(item.id)}/content`;
    getBlob(path, credential?.key, controller.signal)
      .then(async (blob) => {
        if (item.kind === 'text' || item.kind === 'jsonl') {
          const text = await blob.slice(0, TEXT_SHOWN).text();
          setContent({ text: blob.size > TEXT_SHOWN ? `${text}…` : text });
          return;
        }
        // The router answers octet-stream; the format it found from the bytes names the media type.
        url = URL.createObjectURL(new Blob([blob], { type: MIME[item.format] ?? blob.type }));
        setContent({ url });
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setContent({ error: error instanceof ApiError ? error.message : String(error) });
      });
    return () => {
      controller.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [campaign, item.id, item.text, item.kind, item.format, credential?.key]);
  return content;
}

function pretty(kind: string, text: string): string {
  if (kind !== 'jsonl') return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function ReviewItem({ campaign, item }: { campaign: string; item: BatchItemView }) {
  const content = useContent(campaign, item);
  const label = `${item.kind} (${item.format}), ${si(item.size, 'B')}`;
  const text = item.text ?? (content && 'text' in content ? content.text : null);
  return (
    <figure class="item" data-item={item.id} data-kind={item.kind}>
      <figcaption class="label">{label}</figcaption>
      {text !== null && <pre class="item-text">{pretty(item.kind, text)}</pre>}
      {content && 'error' in content && <p class="error">{content.error}</p>}
      {content && 'url' in content && item.kind === 'image' && (
        <img src={content.url} alt={`Item ${item.sha256.slice(0, 12)}`} />
      )}
      {content && 'url' in content && item.kind === 'audio' && (
        // biome-ignore lint/a11y/useMediaCaption: contributed audio has no captions to offer.
        <audio src={content.url} controls />
      )}
      {content && 'url' in content && item.kind === 'video' && (
        // biome-ignore lint/a11y/useMediaCaption: contributed video has no captions to offer.
        <video src={content.url} controls />
      )}
      {content === null && item.text === null && <p class="empty">Loading the item…</p>}
      {item.metadata !== null && item.metadata !== undefined && (
        <pre class="metadata mono">{JSON.stringify(item.metadata)}</pre>
      )}
      {item.machine_opinion && (
        // Machine pre-review (docs/data.md): a hint for the person, never a vote.
        <p class="opinion" data-opinion={item.machine_opinion.status}>
          Machine opinion ({item.machine_opinion.model}, not a vote):{' '}
          {item.machine_opinion.status === 'done'
            ? `${item.machine_opinion.verdict}, "${(item.machine_opinion.answer ?? '').trim().slice(0, 200)}"`
            : item.machine_opinion.status === 'failed'
              ? `none (${item.machine_opinion.reason ?? 'failed'})`
              : 'pending'}
        </p>
      )}
    </figure>
  );
}
