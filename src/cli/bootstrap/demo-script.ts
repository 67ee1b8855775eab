/**
 * What `mirror-chat seed-demo` plays: a small team, its groups, and what they say and do in them, in order. Messages
 * are named by a key where a later step (a reply, a reaction, a pin, an edit, a delete) refers to them; people by
 * username. Every feature a client shows has something to show: threads, mentions (also @everyone), reactions, a pin
 * per group, an edited and a deleted message, and some unread messages left for each member.
 */

export type DemoStep =
  | { type: 'send'; from: string; text: string; key?: string; replyTo?: string }
  | { type: 'react'; by: string; to: string; emoji: string }
  | { type: 'pin'; by: string; message: string; note: string }
  | { type: 'edit'; message: string; text: string }
  | { type: 'delete'; by: string; message: string }
  /** Reads everything sent so far. */
  | { type: 'read'; by: string };

export interface DemoGroup {
  name: string;
  owner: string;
  members: Array<{ username: string; role: 'member' | 'admin' }>;
  steps: DemoStep[];
}

/** One password for every demo account, printed at the end: these accounts are for trying the server, nothing else. */
export const DEMO_PASSWORD = 'demo passphrase';

export const demoPeople = [
  { username: 'ada', email: 'ada@example.com' },
  { username: 'grace', email: 'grace@example.com' },
  { username: 'linus', email: 'linus@example.com' },
  { username: 'margaret', email: 'margaret@example.com' },
];

const say = (from: string, text: string, key?: string): DemoStep => ({ type: 'send', from, text, key });
const reply = (replyTo: string, from: string, text: string, key?: string): DemoStep => ({ type: 'send', from, text, key, replyTo });
const react = (to: string, by: string, emoji: string): DemoStep => ({ type: 'react', by, to, emoji });
const read = (by: string): DemoStep => ({ type: 'read', by });

export const demoGroups: DemoGroup[] = [
  {
    name: 'Launch crew',
    owner: 'ada',
    members: [
      { username: 'grace', role: 'admin' },
      { username: 'linus', role: 'member' },
      { username: 'margaret', role: 'member' },
    ],
    steps: [
      say('ada', 'Morning all! Release 2.4 is planned for Thursday. Checklist below, shout if anything is missing.'),
      say('ada', 'Checklist: 1) freeze main Wednesday noon 2) migrate staging 3) smoke-test sign-up and payments 4) changelog 5) tag and deploy', 'checklist'),
      { type: 'pin', by: 'ada', message: 'checklist', note: 'Release 2.4 checklist' },
      react('checklist', 'grace', '👍'),
      react('checklist', 'linus', '👍'),
      say('grace', "Thanks @ada. I'll take the changelog."),
      say('linus', "Last time the staging migration took 4 minutes, mostly the new index on messages. I'll run it tonight.", 'migration'),
      reply('migration', 'margaret', 'Could you try the batching flag? It halved the time on my laptop.'),
      reply('migration', 'linus', 'Good idea, trying that.'),
      reply('migration', 'linus', 'Done: 1 min 52 s with batching. Staging is on the new schema.', 'migrated'),
      react('migrated', 'margaret', '🎉'),
      react('migrated', 'ada', '🎉'),
      react('migrated', 'grace', '🚀'),
      say('margaret', 'Smoke tests for sign-up pass; payments are flakey on the sandbox, looking into it.', 'smoke'),
      { type: 'edit', message: 'smoke', text: 'Smoke tests for sign-up pass; payments are flaky on the sandbox, looking into it.' },
      say('linus', 'does anyone have the wifi password for the 3rd floor?', 'wrong-group'),
      { type: 'delete', by: 'linus', message: 'wrong-group' },
      say('linus', 'Sorry, wrong group 🙈'),
      reply('smoke', 'grace', 'The sandbox has been slow all week: maybe a longer timeout?'),
      reply('smoke', 'margaret', 'That was it, green with a 30 s timeout. @linus can you bump it in CI too?'),
      read('ada'),
      read('linus'),
      say('ada', '@everyone the freeze starts tomorrow at noon. After that only release fixes go into main.', 'freeze'),
      react('freeze', 'grace', '👀'),
      react('freeze', 'linus', '👍'),
      read('grace'),
      say('grace', 'Changelog draft is in the release doc, comments welcome.'),
    ],
  },
  {
    name: 'Design review',
    owner: 'grace',
    members: [
      { username: 'ada', role: 'admin' },
      { username: 'margaret', role: 'member' },
    ],
    steps: [
      say('grace', 'New onboarding flow: three screens instead of five, and the invite step moves to the end.', 'flow'),
      reply('flow', 'ada', 'Love that the invite moves to the end. Do we still ask for a profile photo?'),
      reply('flow', 'grace', 'Optional now, with a skip button.'),
      reply('flow', 'margaret', 'Can we keep the progress dots? People liked knowing how far along they were.'),
      react('flow', 'ada', '❤️'),
      react('flow', 'margaret', '👍'),
      say('margaret', 'Copy question: "Create your space" or "Create your workspace"?'),
      say('ada', '"Create your workspace" reads clearer to me.'),
      say('grace', "Agreed, @margaret let's go with workspace.", 'agreed'),
      react('agreed', 'margaret', '👍'),
      say('grace', 'Decision: 3 screens, photo optional, progress dots stay, "Create your workspace". Shipping in 2.5.', 'decision'),
      { type: 'pin', by: 'grace', message: 'decision', note: 'Onboarding decisions' },
      read('ada'),
    ],
  },
  {
    name: 'Coffee corner',
    owner: 'linus',
    members: [
      { username: 'ada', role: 'member' },
      { username: 'grace', role: 'member' },
      { username: 'margaret', role: 'member' },
    ],
    steps: [
      say('linus', 'Lunch on Friday? The new ramen place opened around the corner.', 'lunch'),
      say('margaret', "I'm in!"),
      say('grace', 'Count me in, @linus. 12:30?'),
      say('linus', '12:30 it is. Table for four, @ada are you coming?'),
      say('ada', "Wouldn't miss it 🍜"),
      react('lunch', 'ada', '🍜'),
      react('lunch', 'margaret', '🍜'),
      react('lunch', 'grace', '👍'),
      { type: 'pin', by: 'linus', message: 'lunch', note: 'Friday 12:30' },
      say('margaret', 'Finished "The Soul of a New Machine" this weekend. Highly recommended.', 'book'),
      reply('book', 'ada', 'It has been on my list for ages. Lend me your copy?'),
      reply('book', 'margaret', "It's on your desk 📚"),
      read('linus'),
      read('grace'),
    ],
  },
];
