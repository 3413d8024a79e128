export declare const MINIMUM_NODE: string;
// A one-line message saying what to install, or undefined when `version` can run Patronym.
export declare function nodeVersionProblem(version: string, execPath?: string): string | undefined;
