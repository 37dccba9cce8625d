// The public surface of src/notebook: the only module that talks to tslab. Loading it inside a
// tslab kernel installs the in-place notebook progress renderer.
import { setProgressRenderer } from "../progress";
import { inTslabKernel } from "./display";
import { notebookProgressRenderer } from "./progress_bar";

export * from "./banner";
export * from "./display";
export * from "./export";
export * from "./frames";
export * from "./image_grid";
export * from "./outputs";
export * from "./plotly_source";
export * from "./progress_bar";
export * from "./show";
export * from "./table";

if (inTslabKernel()) setProgressRenderer(notebookProgressRenderer);
