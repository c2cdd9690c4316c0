import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// A tiny community in the PersonaBench v1 layout, written by this project (not taken from the release).

function write(path: string, value: unknown): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(value, null, 2));
}

function messages(pairs: [string, string][]) {
  return pairs.map(([role, content]) => ({ role, content }));
}

/** Segment ids at noise 0.0; noise 0.5 renumbers them (second digit 9) and adds a distractor per person. */
export const fixtureIds = {
  adaSister: '100000000001',
  adaDog: '100000000002',
  adaVegan: '100000000003',
  adaShoes: '100000000004',
  bramChess: '200000000001',
  bramPortuguese: '200000000002',
  bramClock: '200000000003',
} as const;

function renumber(id: string, noise: string): string {
  return noise === '0.0' ? id : `${id[0]}9${id.slice(2)}`;
}

/** Writes the fixture release under `root`; returns the community folder name. */
export function writePersonaBenchFixture(root: string): string {
  const community = join(root, 'eval_data', 'eval_data_v1', 'synthetic_data', 'community_7');
  write(join(community, 'graph_json', 'social_graph.json'), {
    nodes: [
      { node: 1, properties: { name: 'Ada Quill', persona: 'A marine biologist who runs trails.' } },
      { node: 2, properties: { name: 'Bram Otter', persona: 'A retired teacher who plays chess.' } },
      { node: 3, properties: { name: 'Cleo Stone', persona: 'A potter.' } },
    ],
    edges: [],
  });
  write(join(community, 'eval_info', 'eval_info_all.json'), [
    {
      Name: 'Ada Quill',
      Eval_Info: {
        qa: [
          {
            q_id: 'a1',
            question: 'Where does my sister live?',
            answer: 'Lisbon',
            type: 'Social',
            difficulty: 'hard',
            outdated_value: null,
          },
          {
            q_id: 'a2',
            question: "What is my dog's name?",
            answer: ['Pixel'],
            type: 'Basic information',
            difficulty: 'easy',
            outdated_value: ['Biscuit'],
          },
          {
            q_id: 'a3',
            question: 'What do I like?',
            answer: ['vegan food', 'trail running'],
            type: 'Preference',
            difficulty: 'hard',
            outdated_value: null,
          },
          {
            q_id: 'a4',
            question: 'Am I happy?',
            answer: 'yes',
            type: 'Subjective',
            difficulty: 'easy',
            outdated_value: null,
          },
          {
            q_id: 'a5',
            question: 'How old am I?',
            answer: 41,
            type: 'Basic information',
            difficulty: 'easy',
            outdated_value: null,
          },
        ],
      },
    },
    {
      Name: 'Bram Otter',
      Eval_Info: {
        qa: [
          {
            q_id: 'b1',
            question: 'Which club am I in?',
            answer: 'chess club',
            type: 'Preference',
            difficulty: 'easy',
            outdated_value: 'book club',
          },
          {
            q_id: 'b2',
            question: 'What language am I learning?',
            answer: [{ Language: 'Portuguese' }],
            type: 'Basic information',
            difficulty: 'easy',
            outdated_value: null,
          },
        ],
      },
    },
    {
      Name: 'Cleo Stone',
      Eval_Info: {
        qa: [
          {
            q_id: 'c1',
            question: 'What do I make?',
            answer: 'pots',
            type: 'Basic information',
            difficulty: 'easy',
            outdated_value: null,
          },
        ],
      },
    },
  ]);
  for (const noise of ['0.0', '0.5']) {
    const id = (key: keyof typeof fixtureIds) => renumber(fixtureIds[key], noise);
    write(join(community, 'eval_info', `qa_gt_context_all_noise_${noise}.json`), [
      {
        q_id: 'a1',
        question: 'Where does my sister live?',
        answer: 'Lisbon',
        segment_id: { Lisbon: [id('adaSister')] },
      },
      {
        q_id: 'a2',
        question: "What is my dog's name?",
        answer: ['Pixel'],
        segment_id: { Pixel: [id('adaDog')] },
      },
      {
        q_id: 'a3',
        question: 'What do I like?',
        answer: ['vegan food', 'trail running'],
        segment_id: { 'vegan food': [id('adaVegan')], 'trail running': [id('adaShoes'), id('adaSister')] },
      },
      { q_id: 'a4', question: 'Am I happy?', answer: 'yes', segment_id: { yes: [id('adaDog')] } },
      { q_id: 'a5', question: 'How old am I?', answer: 41, segment_id: { '41': [id('adaSister')] } },
      {
        q_id: 'b1',
        question: 'Which club am I in?',
        answer: 'chess club',
        segment_id: { 'chess club': [id('bramChess'), id('bramClock')] },
      },
      {
        q_id: 'b2',
        question: 'What language am I learning?',
        answer: [{ Language: 'Portuguese' }],
        segment_id: { Portuguese: [id('bramPortuguese')] },
      },
      { q_id: 'c1', question: 'What do I make?', answer: 'pots', segment_id: { pots: ['300000000001'] } },
    ]);
    const distractor = (person: string, prefix: string) =>
      noise === '0.0'
        ? []
        : [
            {
              session: 'user_ai_interaction---session---9',
              time: '2024/Jan/02/12:05 PM',
              user_ai_interaction: messages([
                ['user', `What is the weather like on Mars? Asking for ${person}.`],
                ['assistant', 'Cold, dusty and thin-aired.'],
              ]),
              segment_id: `${prefix}00000000099`,
            },
          ];
    const directory = join(community, 'private_data', `noise_${noise}`);
    write(join(directory, 'conversation_data_all.json'), [
      {
        Name: 'Ada Quill',
        Data: [
          {
            Target_name: 'Bram Otter',
            Conversations: [
              {
                session: 'conversation---session---1',
                time: '2024/Oct/14/07:44 AM',
                target_name: 'Bram Otter',
                conversation: messages([
                  ['Ada Quill', 'My sister Mira finally moved to Lisbon, she loves the trams.'],
                  ['Bram Otter', 'Lisbon! Will you visit her soon?'],
                  ['Ada Quill', 'In spring, after my 41st birthday. I will run the coastal trail there.'],
                ]),
                segment_id: id('adaSister'),
              },
            ],
          },
          {
            Target_name: 'Cleo Stone',
            Conversations: [
              {
                session: 'conversation---session---2',
                time: '2024/Oct/20/12:10 PM',
                target_name: 'Cleo Stone',
                conversation: messages([
                  ['Cleo Stone', 'How is the new greyhound?'],
                  ['Ada Quill', 'Pixel is great, he sleeps all day — café naps, I call them.'],
                ]),
                segment_id: id('adaDog'),
              },
            ],
          },
        ],
      },
      {
        Name: 'Bram Otter',
        Data: [
          {
            Target_name: 'Ada Quill',
            Conversations: [
              {
                session: 'conversation---session---1',
                time: '2024/Nov/01/09:00 PM',
                target_name: 'Ada Quill',
                conversation: messages([
                  ['Bram Otter', 'I joined the chess club on Thursdays, I quit the book club.'],
                  ['Ada Quill', "Good for you, you always beat me at chess. It's your game."],
                ]),
                segment_id: id('bramChess'),
              },
            ],
          },
        ],
      },
    ]);
    write(join(directory, 'user_ai_interaction_data_all.json'), [
      {
        Name: 'Ada Quill',
        Data: [
          {
            session: 'user_ai_interaction---session---1',
            time: '2024/Oct/15/08:56 PM',
            user_ai_interaction: messages([
              ['user', 'Can you suggest vegan dinners? I stopped eating meat last year.'],
              ['assistant', 'Try a chickpea curry or a lentil shepherd’s pie.'],
            ]),
            segment_id: id('adaVegan'),
          },
          ...distractor('Ada', '1'),
        ],
      },
      {
        Name: 'Bram Otter',
        Data: [
          {
            session: 'user_ai_interaction---session---1',
            time: '2024/Nov/03/10:30 AM',
            user_ai_interaction: messages([
              ['user', 'Give me ten Portuguese phrases for a trip to Porto.'],
              ['assistant', 'Bom dia, obrigado, com licença, …'],
            ]),
            segment_id: id('bramPortuguese'),
          },
          ...distractor('Bram', '2'),
        ],
      },
    ]);
    write(join(directory, 'purchase_history_data_all.json'), [
      {
        Name: 'Ada Quill',
        Data: [
          {
            session: 'purchase_history---session---1',
            time: '2024/Oct/16/11:47 AM',
            purchase_history: [
              {
                title: 'Stride Trail Runner 3',
                description: 'Grippy trail running shoes.',
                brand: 'Stride',
                categories: ['Sports', 'Running', 'Shoes'],
              },
              {
                title: 'Headlamp 300',
                description: 'For early runs.',
                brand: 'Lumo',
                categories: ['Sports'],
              },
            ],
            segment_id: id('adaShoes'),
          },
        ],
      },
      {
        Name: 'Bram Otter',
        Data: [
          {
            session: 'purchase_history---session---1',
            time: '2024/Nov/05/03:15 PM',
            purchase_history: [
              {
                title: 'Digital chess clock',
                description: 'Tournament timer.',
                brand: 'Tempo',
                categories: ['Games', 'Chess'],
              },
            ],
            segment_id: id('bramClock'),
          },
        ],
      },
    ]);
  }
  return 'community_7';
}
