// The public surface of src/notebook.
export {};
