// The emoji-match dataset builder (and the pHash it uses, reusable for any image).
export * from "../phash";
export * from "./build";
export * from "./join";
export * from "./plan";
export * from "./sources";
export * from "./text";
