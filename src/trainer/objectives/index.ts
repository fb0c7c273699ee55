// Importing this module registers every policy objective the trainer can name in its config.
import './ppoClip.js';
import './drpo.js';
