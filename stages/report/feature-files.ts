/** The feature-browser file of a features artifact (written by collectFeatures, read by the report). */
export const FEATURES_FILE = 'features.json';
