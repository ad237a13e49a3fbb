// Who is signed in, shared with every page: the token's name and whether it may write.
import { createContext } from "preact";
import { useContext } from "preact/hooks";

/** The signed-in token as pages see it. */
export interface Session {
  /** The token's name (from whoami), or null when the server could not say. */
  name: string | null;
  /** Whether write controls are shown. */
  canWrite: boolean;
  /** Called when the server answered 403 to a write: hides the write controls. */
  markReadOnly: () => void;
  /** Forgets the token and shows the sign-in form with a message. */
  signOut: (message: string | null) => void;
}

/** The session context. */
export const SessionContext = createContext<Session>({ name: null, canWrite: false, markReadOnly: () => {}, signOut: () => {} });

/** The current session. */
export function useSession(): Session {
  return useContext(SessionContext);
}
