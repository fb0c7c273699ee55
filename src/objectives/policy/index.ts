// Importing this module registers every policy objective the trainer can name in its config.
import './ppoClip.js';
import './gspo.js';
import './cispo.js';
import './gmpo.js';
import './sapo.js';
import './drpo.js';
