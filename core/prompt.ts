/** Prompt assembly for one agent: pure, so the workflow and the activity agree on it. */
export interface PeerMessage {
  agentId: string;
  role: string;
  text: string;
}

export interface AgentPrompt {
  system: string;
  messages: { role: 'user'; content: string }[];
}

export function buildAgentPrompt(persona: string, query: string, peers: readonly PeerMessage[]): AgentPrompt {
  let content = `Question:\n${query}`;
  if (peers.length > 0) {
    const notes = peers.map((p) => `[${p.agentId} (${p.role})]\n${p.text.trim()}`).join('\n\n');
    content += `\n\nMessages from other agents:\n${notes}`;
  }
  return { system: persona, messages: [{ role: 'user', content }] };
}

