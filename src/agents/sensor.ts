// sensor: a hierarchy leaf reporting the temperature of CITY (default: the agent id) from a fixed table.
import { CITIES, findCity } from './cities';
import { configError, start } from './runtime';

const key = process.env.CITY?.trim() || process.env.AGENT_ID?.trim() || '';
const city = findCity(key);
if (!city) configError(`CITY '${key}' is not a known city (known: ${CITIES.map((c) => c.id).join(', ')})`);

start({
  name: 'sensor',
  description: `Temperature sensor in ${city.name}`,
  skills: [
    {
      id: 'reading',
      name: 'Reading',
      description: `Current temperature in ${city.name}`,
      tags: ['sensor', 'temperature'],
      examples: ['report temperatures'],
    },
  ],
  handle() {
    return { summary: `${city.id} ${city.celsius}°C`, result: { city: city.id, celsius: city.celsius } };
  },
});
