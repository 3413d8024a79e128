// What the chooser shows, for a town's one library or a state's thousand:
// libraries grouped under their system's name (the realm's display name),
// searchable, navigable by first letter and paged, all without JavaScript.
// Pure: the page only renders what this returns.
import { fold, type Listable, searchLibraries } from './route.ts';

export const CHOOSER_PAGE = 50;

export interface ChooserGroup<L extends Listable = Listable> {
  // The system's name; undefined for libraries listed under their own name.
  system: string | undefined;
  libraries: L[];
}

export interface ChooserView<L extends Listable = Listable> {
  groups: ChooserGroup<L>[];
  // First letters that have libraries (shown when the list is long).
  letters: string[];
  letter: string | undefined;
  page: number;
  pages: number;
  // Libraries matching the query and letter, on every page.
  total: number;
}

export interface ChooserInput {
  query: string;
  letter?: string | undefined;
  page?: number | undefined;
  // After a card that matched no library: a long list would bury the
  // message, so none is shown until the patron searches or picks a letter.
  searchFirst?: boolean | undefined;
}

const heading = (l: Listable): string => l.realm.name ?? l.name;
const initial = (l: Listable): string => {
  const first = fold(heading(l)).charAt(0).toUpperCase();
  return /\p{L}/u.test(first) ? first : '#';
};

export function chooserView<L extends Listable>(
  all: readonly L[],
  input: ChooserInput,
  pageSize = CHOOSER_PAGE,
): ChooserView<L> {
  const long = all.length > pageSize;
  const letters = long ? [...new Set(all.map(initial))].sort() : [];
  const letter = input.letter && letters.includes(input.letter) ? input.letter : undefined;
  const listed = input.searchFirst && long && !input.query && !letter ? [] : searchLibraries(all, input.query);
  const matching = listed
    .filter((l) => !letter || initial(l) === letter)
    .sort((a, b) => heading(a).localeCompare(heading(b)) || a.name.localeCompare(b.name));
  const pages = Math.max(1, Math.ceil(matching.length / pageSize));
  const page = Math.min(pages, Math.max(1, Math.floor(input.page ?? 1)));
  const groups: ChooserGroup<L>[] = [];
  for (const library of matching.slice((page - 1) * pageSize, page * pageSize)) {
    const system = library.realm.name;
    const last = groups.at(-1);
    if (last && last.system === system) last.libraries.push(library);
    else groups.push({ system, libraries: [library] });
  }
  return { groups, letters, letter, page, pages, total: matching.length };
}
