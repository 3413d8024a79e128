// The cookie that remembers a patron's library: set by the chooser and the
// landing page, read when the next interaction picks a library.
// The patron's last library choice: only the library id, strictly necessary
// to spare them the chooser next time.
export const LIBRARY_COOKIE = 'patronym_library';
export const LIBRARY_COOKIE_DAYS = 180;
